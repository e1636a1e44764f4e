import { AccessDefinition, ImportRecordsProgress, type RowError } from '@tracenet/proto/browser';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, callHeaders, rpc } from '../../api.js';
import { ErrorMessage, Field, Screen } from '../../components.js';
import { formatNumber, t } from '../../i18n.js';
import { href } from '../../router.js';
import { mayWriteRecords } from './may-write.js';
import { rejectsCsv } from './rejects.js';

/** Rejected rows listed on screen; all of them are in the downloadable file. */
const SHOWN_REJECTS = 100;

type Format = 'csv' | 'jsonl';

interface Run {
  readonly state: 'running' | 'done' | 'failed' | 'cancelled';
  readonly progress: ImportRecordsProgress;
  readonly rejects: readonly RowError[];
  readonly error?: unknown;
  readonly dryRun: boolean;
}

function formatOf(name: string): Format {
  return /\.(jsonl|ndjson|json)$/i.test(name) ? 'jsonl' : 'csv';
}

/** Reads a stream of JSON lines as they arrive. */
async function* jsonLines(body: ReadableStream<Uint8Array>): AsyncGenerator<unknown> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (value) buffered += decoder.decode(value, { stream: true });
    let at = buffered.indexOf('\n');
    while (at >= 0) {
      const line = buffered.slice(0, at).trim();
      buffered = buffered.slice(at + 1);
      if (line !== '') yield JSON.parse(line);
      at = buffered.indexOf('\n');
    }
    if (done) break;
  }
  if (buffered.trim() !== '') yield JSON.parse(buffered);
}

const EMPTY = ImportRecordsProgress.fromPartial({});

/** Import of a CSV or JSON Lines file (docs/records.md 5) with live progress and the rejected rows to download. */
export function ImportScreen() {
  const [file, setFile] = useState<File | undefined>(undefined);
  const [format, setFormat] = useState<Format>('csv');
  const [dryRun, setDryRun] = useState(false);
  const [run, setRun] = useState<Run | undefined>(undefined);
  const [noFile, setNoFile] = useState(false);
  const abort = useRef<AbortController | undefined>(undefined);
  useEffect(() => () => abort.current?.abort(), []);

  if (!mayWriteRecords())
    return (
      <Screen title={t('records.importTitle')}>
        <ErrorMessage error={new ApiError(403, 'FORBIDDEN', '', '', 'role')} />
      </Screen>
    );

  const start = async (event: Event) => {
    event.preventDefault();
    if (!file) {
      setNoFile(true);
      return;
    }
    setNoFile(false);
    const controller = new AbortController();
    abort.current = controller;
    const rejects: RowError[] = [];
    let progress = EMPTY;
    setRun({ state: 'running', progress, rejects, dryRun });
    try {
      const response = await fetch(`/api/import?format=${format}&dryRun=${dryRun}`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/octet-stream', ...callHeaders() },
        body: file,
        signal: controller.signal,
      });
      if (!response.ok || !response.body) {
        const body = (await response.json().catch(() => ({}))) as { error?: Partial<ApiError> };
        const e = body.error ?? {};
        // The session ended: a call through rpc() sees it too, and the console shows the sign-in with the reason.
        if (response.status === 401) void rpc(AccessDefinition, 'whoAmI', {}).catch(() => undefined);
        throw new ApiError(response.status, e.code ?? 'UNAVAILABLE', e.message ?? '', e.field ?? '', e.rule ?? 'http');
      }
      for await (const line of jsonLines(response.body)) {
        const failure = (line as { error?: Partial<ApiError> }).error;
        if (failure)
          throw new ApiError(500, failure.code ?? '', failure.message ?? '', failure.field ?? '', failure.rule ?? '');
        progress = ImportRecordsProgress.fromJSON(line);
        rejects.push(...progress.errors);
        setRun({ state: progress.done ? 'done' : 'running', progress, rejects: [...rejects], dryRun });
      }
      if (!progress.done) throw new ApiError(0, 'UNAVAILABLE', '', '', 'network');
    } catch (caught) {
      const cancelled = controller.signal.aborted;
      setRun({
        state: cancelled ? 'cancelled' : 'failed',
        progress,
        rejects: [...rejects],
        dryRun,
        error: cancelled
          ? undefined
          : caught instanceof TypeError
            ? new ApiError(0, 'UNAVAILABLE', '', '', 'network')
            : caught,
      });
    } finally {
      abort.current = undefined;
    }
  };

  const running = run?.state === 'running';
  return (
    <Screen
      title={t('records.importTitle')}
      actions={
        <a class="button" href={href('records')}>
          {t('records.backToSearch')}
        </a>
      }
    >
      <p class="hint">{t('records.importHint')}</p>
      <form class="import-form" onSubmit={start}>
        <Field label={t('records.importFile')} hint={t('records.importFileHint')}>
          {(id, describedBy) => (
            <input
              id={id}
              name="file"
              type="file"
              accept=".csv,.jsonl,.ndjson,.txt,text/csv,application/x-ndjson"
              aria-describedby={describedBy}
              disabled={running}
              onChange={(event) => {
                const chosen = (event.target as HTMLInputElement).files?.[0];
                setFile(chosen);
                if (chosen) setFormat(formatOf(chosen.name));
              }}
            />
          )}
        </Field>
        <Field label={t('records.importFormat')}>
          {(id) => (
            <select
              id={id}
              name="format"
              value={format}
              disabled={running}
              onChange={(event) => setFormat((event.target as HTMLSelectElement).value as Format)}
            >
              <option value="csv">{t('records.formatCsv')}</option>
              <option value="jsonl">{t('records.formatJsonl')}</option>
            </select>
          )}
        </Field>
        <label class="checkbox">
          <input
            type="checkbox"
            name="dryRun"
            checked={dryRun}
            disabled={running}
            onChange={(event) => setDryRun((event.target as HTMLInputElement).checked)}
          />
          {t('records.dryRun')}
        </label>
        <p class="hint">{t('records.dryRunHint')}</p>
        {noFile && (
          <p class="error" role="alert">
            {t('records.noFile')}
          </p>
        )}
        <div class="import-actions">
          <button type="submit" class="primary" disabled={running}>
            {dryRun ? t('records.checkStart') : t('records.importStart')}
          </button>
          {running && (
            <button type="button" class="plain" onClick={() => abort.current?.abort()}>
              {t('records.importCancel')}
            </button>
          )}
        </div>
      </form>
      {run && file && <Progress run={run} size={file.size} fileName={file.name} />}
    </Screen>
  );
}

function Progress({ run, size, fileName }: { run: Run; size: number; fileName: string }) {
  const p = run.progress;
  const [url, setUrl] = useState<string | undefined>(undefined);
  const finished = run.state !== 'running';
  useEffect(() => {
    if (!finished || run.rejects.length === 0) return;
    const made = URL.createObjectURL(new Blob([rejectsCsv(run.rejects)], { type: 'text/csv;charset=utf-8' }));
    setUrl(made);
    return () => URL.revokeObjectURL(made);
  }, [finished, run.rejects]);
  const percent = size > 0 ? Math.min(100, Math.round((p.bytesProcessed / size) * 100)) : 100;
  const status =
    run.state === 'running'
      ? t('records.importRunning', { percent: formatNumber(percent) })
      : run.state === 'done'
        ? run.dryRun
          ? t('records.checkDone')
          : t('records.importDone')
        : run.state === 'cancelled'
          ? t('records.importCancelled')
          : t('records.importFailed');
  return (
    <section class="import-progress" aria-labelledby="import-progress-title">
      <h2 id="import-progress-title">{t('records.progressTitle')}</h2>
      <progress
        max={100}
        value={run.state === 'done' ? 100 : percent}
        aria-label={t('records.progressLabel')}
        aria-valuetext={t('records.importRunning', { percent: formatNumber(percent) })}
      />
      <p role="status" class={run.state === 'done' ? 'ok' : undefined}>
        {status}
      </p>
      <dl class="import-counts">
        <div>
          <dt>{t('records.rowsRead')}</dt>
          <dd data-count="read">{formatNumber(p.rowsRead)}</dd>
        </div>
        <div>
          <dt>{run.dryRun ? t('records.rowsValid') : t('records.rowsImported')}</dt>
          <dd data-count="imported">{formatNumber(p.rowsImported)}</dd>
        </div>
        <div>
          <dt>{t('records.rowsUnchanged')}</dt>
          <dd data-count="unchanged">{formatNumber(p.rowsUnchanged)}</dd>
        </div>
        <div>
          <dt>{t('records.rowsRejected')}</dt>
          <dd data-count="rejected">{formatNumber(p.rowsRejected)}</dd>
        </div>
      </dl>
      <ErrorMessage error={run.error} />
      {run.rejects.length > 0 && (
        <section aria-labelledby="import-rejects-title">
          <h3 id="import-rejects-title">{t('records.rejectsTitle')}</h3>
          {url && (
            <p>
              <a class="button" href={url} download={`${fileName.replace(/\.[^.]*$/, '')}.rejects.csv`}>
                {t('records.rejectsDownload', { count: run.rejects.length, shown: formatNumber(run.rejects.length) })}
              </a>
            </p>
          )}
          {run.rejects.length > SHOWN_REJECTS && (
            <p class="hint">
              {t('records.rejectsFirst', { count: SHOWN_REJECTS, shown: formatNumber(SHOWN_REJECTS) })}
            </p>
          )}
          <table class="records-table">
            <caption class="visually-hidden">{t('records.rejectsTitle')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('records.rejectLine')}</th>
                <th scope="col">{t('records.rejectField')}</th>
                <th scope="col">{t('records.rejectReason')}</th>
              </tr>
            </thead>
            <tbody>
              {run.rejects.slice(0, SHOWN_REJECTS).map((r) => (
                <tr key={`${r.line}:${r.field}`}>
                  <td>{formatNumber(r.line)}</td>
                  <td>
                    <code>{r.field}</code>
                  </td>
                  <td dir="auto">{r.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </section>
  );
}
