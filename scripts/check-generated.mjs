// Regenerates the protobuf code and fails when it differs from what is committed, so that
// `npm run generate` is reproducible and nobody edits proto/src/gen by hand.
import { execFileSync } from 'node:child_process';

execFileSync('npm', ['run', 'generate', '--silent'], { stdio: 'inherit' });
const changes = execFileSync('git', ['status', '--porcelain', '--', 'proto/src/gen'], { encoding: 'utf8' });
if (changes.trim() !== '') {
  console.error('Generated protobuf code differs from the committed code:\n' + changes);
  console.error('Run `npm run generate` and commit proto/src/gen together with the .proto change.');
  process.exit(1);
}
console.log('generated code is reproducible: npm run generate gives no diff');
