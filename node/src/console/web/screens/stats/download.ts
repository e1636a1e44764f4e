import { safeFileName } from './period.js';

// The Blob of the last file saved: released when the next is saved (the browser may still be
// reading it just after the click).
let last: string | undefined;

/**
 * Saves bytes the node gave as a file in the officer's downloads, under the name it gave (made
 * safe), through a link to a Blob.
 */
export function saveFile(content: Uint8Array, mediaType: string, fileName: string, fallback: string): void {
  if (last) URL.revokeObjectURL(last);
  const url = URL.createObjectURL(
    new Blob([Uint8Array.from(content)], { type: mediaType || 'application/octet-stream' }),
  );
  const link = document.createElement('a');
  link.href = url;
  link.download = safeFileName(fileName, fallback);
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  last = url;
}
