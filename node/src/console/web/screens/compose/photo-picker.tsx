import { useState } from 'preact/hooks';
import { formatNumber, t } from '../../i18n.js';
import { controlId, formatBytes } from './fields.js';
import { type ComposePhoto, MAX_PHOTO_BYTES, MAX_PHOTOS } from './model.js';
import { PhotoError, reducePhoto } from './photos.js';

interface Refused {
  readonly key: string;
  readonly name: string;
  readonly reason: string;
}

/**
 * Photos of the markings: chosen with the file input or dropped on it, reduced in the browser to
 * the protocol's limit (photos.ts), each shown with its size, a caption (what it shows) and a
 * button to remove it.
 */
export function PhotoPicker(props: {
  photos: readonly ComposePhoto[];
  error: string | undefined;
  onChange: (photos: ComposePhoto[]) => void;
}) {
  const [busy, setBusy] = useState(0);
  const [refused, setRefused] = useState<readonly Refused[]>([]);
  const [over, setOver] = useState(false);
  const id = controlId('photos');

  const add = async (files: readonly File[]) => {
    const room = MAX_PHOTOS - props.photos.length;
    const taken = files.slice(0, Math.max(0, room));
    const failures: Refused[] = files
      .slice(taken.length)
      .map((file, i) => ({ key: `${file.name}-over-${i}`, name: file.name, reason: t('compose.photoError.tooMany') }));
    setBusy(taken.length);
    const added: ComposePhoto[] = [];
    for (const [i, file] of taken.entries()) {
      try {
        added.push(await reducePhoto(file));
      } catch (caught) {
        const reason = caught instanceof PhotoError ? caught.reason : 'unreadable';
        failures.push({ key: `${file.name}-${i}`, name: file.name, reason: t(`compose.photoError.${reason}`) });
      }
    }
    setBusy(0);
    setRefused(failures);
    if (added.length > 0) props.onChange([...props.photos, ...added]);
  };

  const remove = (photo: ComposePhoto) => {
    URL.revokeObjectURL(photo.url);
    props.onChange(props.photos.filter((p) => p !== photo));
  };
  const caption = (photo: ComposePhoto, text: string) => {
    photo.caption = text;
    props.onChange([...props.photos]);
  };

  return (
    <fieldset class={`compose-photos${props.error ? ' field-invalid' : ''}`}>
      <legend>{t('compose.section.photos')}</legend>
      <p class="hint" id={`${id}-hint`}>
        {t('compose.photosHint', { count: MAX_PHOTOS, limit: formatBytes(MAX_PHOTO_BYTES) })}
      </p>
      {/* The drop zone is a help for the mouse; the file input in it is the way for everyone. */}
      <div
        class={`compose-drop${over ? ' compose-drop-over' : ''}`}
        onDragOver={(event) => {
          event.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(event) => {
          event.preventDefault();
          setOver(false);
          void add([...(event.dataTransfer?.files ?? [])]);
        }}
      >
        <label for={id}>{t('compose.photosChoose')}</label>
        <input
          id={id}
          type="file"
          accept="image/jpeg,image/png,image/*"
          multiple
          aria-describedby={`${id}-hint${props.error ? ` ${id}-error` : ''}`}
          disabled={busy > 0 || props.photos.length >= MAX_PHOTOS}
          onChange={(event) => {
            const input = event.target as HTMLInputElement;
            const files = [...(input.files ?? [])];
            input.value = '';
            void add(files);
          }}
        />
        <p class="hint">{t('compose.photosDrop')}</p>
      </div>
      {props.error && (
        <p class="field-error" id={`${id}-error`}>
          {props.error}
        </p>
      )}
      <p role="status" class="compose-photo-status">
        {busy > 0 ? t('compose.photosReducing', { count: busy, shown: formatNumber(busy) }) : ''}
      </p>
      {refused.length > 0 && (
        <div class="error" role="alert">
          <ul>
            {refused.map((r) => (
              <li key={r.key}>{t('compose.photoRefused', { name: r.name, reason: r.reason })}</li>
            ))}
          </ul>
        </div>
      )}
      {props.photos.length > 0 && (
        <ul class="compose-photo-list">
          {props.photos.map((photo, i) => {
            const n = formatNumber(i + 1);
            return (
              <li key={photo.key} class="compose-photo">
                <img
                  src={photo.url}
                  alt={photo.caption.trim() !== '' ? photo.caption : t('compose.photoAlt', { n })}
                  width={160}
                  height={Math.max(1, Math.round((160 * photo.height) / photo.width))}
                />
                <div>
                  <p class="compose-photo-size">
                    {t('compose.photoSize', {
                      size: formatBytes(photo.content.length),
                      original: formatBytes(photo.originalBytes),
                      width: formatNumber(photo.width),
                      height: formatNumber(photo.height),
                    })}
                  </p>
                  <div class="field">
                    <label for={`${id}-caption-${photo.key}`}>{t('compose.photoCaption', { n })}</label>
                    <input
                      id={`${id}-caption-${photo.key}`}
                      maxLength={500}
                      value={photo.caption}
                      onInput={(event) => caption(photo, (event.target as HTMLInputElement).value)}
                    />
                  </div>
                  <button type="button" onClick={() => remove(photo)}>
                    {t('compose.photoRemove', { n })}
                  </button>
                </div>
              </li>
            );
          })}
        </ul>
      )}
    </fieldset>
  );
}
