/**
 * CompileError is the compiler's domain error: the desired state breaks a rule the compiler enforces itself
 * (whatever validated it before). `code` is namespaced (`compiler/invalid_input`), `path` names the offending field
 * in manifest notation (`services.web.domains[0]`). Messages never quote variable values.
 */
export class CompileError extends Error {
  /** code is the namespaced error code. */
  readonly code: string;
  /** path is the offending field in manifest notation. */
  readonly path: string;
  /** reason says what is wrong there. */
  readonly reason: string;

  constructor(path: string, reason: string, code = 'compiler/invalid_input') {
    super(`${path}: ${reason}`);
    this.name = 'CompileError';
    this.code = code;
    this.path = path;
    this.reason = reason;
  }
}
