import fc from 'fast-check';

/**
 * Pieces of text that break YAML writers and readers: every line break YAML 1.1 or 1.2 knows,
 * control and invisible characters, lone surrogates, indicators, YAML 1.1 words and numbers-as-text
 * (`y`, `on`, `0o17`, `1:20`, `<<`), path tricks and overlong names.
 */
export const HOSTILE_PIECES = [
  '\n', '\r', '\r\n', '\u0085', '\u2028', '\u2029', '\t', '\u0000', '\u0007', '\u001b', '\u007f', '\u0080', '\u009f', '\u00a0', '\u200b', '\u202e', '\u2066',
  '\ufeff', '\ufffe', '\ud800', '\udc00', '😀', 'é', '#', ': ', ' #', ' ', '  ', '---', '...', '- ', '-', '?', ':', '"', "'", '\\', '/', '..', '*', '{', '}', '[', ']', '&', '!', '|',
  '>', '%', '@', '`', ',', 'y', 'Y', 'yes', 'no', 'on', 'off', 'n', 'true', 'null', 'Null', '~', '0o17', '0777', '017', '1e3', '1_000', '1:20', '0x1f', '0b1', '.inf', '.5', '5.',
  '2001-01-01', '2026-11-22T10:00:00Z', '8080', '-1', '=', '<<', 'x'.repeat(300), 'k'.repeat(1030),
];

const piece = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_PIECES) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 5 }) },
  { weight: 4, arbitrary: fc.constantFrom('app', 'web', 'TCP', 'kube-dns', 'a.b/c', 'x_1', 'k8s:io.kubernetes.pod.namespace') },
);

/** Up to three pieces joined: mostly ordinary names, often one hostile piece, sometimes several. */
export const hostileText = fc.array(piece, { maxLength: 3 }).map((ps) => ps.join(''));
