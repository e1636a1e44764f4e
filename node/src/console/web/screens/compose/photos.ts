import { type ComposePhoto, MAX_PHOTO_BYTES } from './model.js';

/** Largest file the console reads at all: beyond it a phone photo is not what was chosen. */
export const MAX_INPUT_BYTES = 40 * 1024 * 1024;
/** Most pixels of a picture the console decodes (a decompression bomb stops here). */
const MAX_INPUT_PIXELS = 80_000_000;
/** Longest side of a reduced photo to begin with: markings stay legible. */
const START_SIDE = 3000;
const QUALITIES = [0.9, 0.8, 0.7, 0.6];

/** Why a file cannot be a photo of the markings (catalogue key `compose.photoError.<reason>`). */
export class PhotoError extends Error {
  constructor(readonly reason: 'notImage' | 'unreadable' | 'tooLarge' | 'tooManyPixels' | 'cannotReduce') {
    super(reason);
  }
}

function load(url: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new PhotoError('unreadable'));
    image.src = url;
  });
}

function encode(canvas: HTMLCanvasElement, quality: number): Promise<Blob> {
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new PhotoError('cannotReduce'))), 'image/jpeg', quality),
  );
}

let counter = 0;

/**
 * A photo of the markings from a file the officer chose: decoded by the browser (a file that only
 * claims to be an image fails here), drawn on a canvas and re-encoded as JPEG, downscaled and
 * re-encoded until it fits the protocol's limit for a photo (1 MiB). Re-encoding also drops what
 * the file carried besides the picture (the camera's location, for one).
 */
export async function reducePhoto(file: File): Promise<ComposePhoto> {
  if (!file.type.startsWith('image/')) throw new PhotoError('notImage');
  if (file.size > MAX_INPUT_BYTES) throw new PhotoError('tooLarge');
  const source = URL.createObjectURL(file);
  try {
    const image = await load(source);
    const { naturalWidth: width, naturalHeight: height } = image;
    if (width === 0 || height === 0) throw new PhotoError('unreadable');
    if (width * height > MAX_INPUT_PIXELS) throw new PhotoError('tooManyPixels');
    let scale = Math.min(1, START_SIDE / Math.max(width, height));
    const canvas = document.createElement('canvas');
    for (let attempt = 0; attempt < 12; attempt += 1) {
      canvas.width = Math.max(1, Math.round(width * scale));
      canvas.height = Math.max(1, Math.round(height * scale));
      const context = canvas.getContext('2d');
      if (!context) throw new PhotoError('cannotReduce');
      // JPEG has no transparency: a transparent PNG is drawn on white, not on black.
      context.fillStyle = '#ffffff';
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.drawImage(image, 0, 0, canvas.width, canvas.height);
      for (const quality of QUALITIES) {
        const blob = await encode(canvas, quality);
        if (blob.size > 0 && blob.size <= MAX_PHOTO_BYTES) {
          const content = new Uint8Array(await blob.arrayBuffer());
          counter += 1;
          return {
            key: `photo-${counter}`,
            mediaType: 'image/jpeg',
            content,
            url: URL.createObjectURL(blob),
            originalBytes: file.size,
            width: canvas.width,
            height: canvas.height,
            caption: '',
          };
        }
      }
      scale *= 0.75;
    }
    throw new PhotoError('cannotReduce');
  } finally {
    URL.revokeObjectURL(source);
  }
}
