/** Types of build-node-image.mjs (plain JavaScript so that CI runs it without a build of its own). */

/** The image the cluster tests run: `tracenet-node:local`. */
export const DEFAULT_IMAGE: string;

/** Builds the node image from the host's node binary, busybox and the built repo, unless up to date. */
export function buildNodeImage(options?: {
  readonly image?: string;
  readonly log?: (line: string) => void;
}): Promise<{ image: string; built: boolean; ms: number; bytes: number }>;
