/**
 * A progress indicator on stderr for slow steps (the RSA-4096 key takes seconds): a spinner with the elapsed
 * time on a terminal, a start line and an end line otherwise (logs, CI).
 */
export class Progress {
  private timer: NodeJS.Timeout | undefined;
  private started = 0;
  private label = '';
  private frame = 0;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  start(label: string): void {
    this.stop();
    this.label = label;
    this.started = Date.now();
    if (this.stream.isTTY) {
      this.render();
      this.timer = setInterval(() => this.render(), 100);
    } else {
      this.stream.write(`${label}...\n`);
    }
  }

  /** Ends the current step with a result word ("done", "failed"). */
  stop(result = 'done'): void {
    if (!this.label) return;
    clearInterval(this.timer);
    this.timer = undefined;
    const seconds = ((Date.now() - this.started) / 1000).toFixed(1);
    if (this.stream.isTTY) this.stream.write(`\r\x1b[K${this.label}: ${result} (${seconds} s)\n`);
    else this.stream.write(`${this.label}: ${result} (${seconds} s)\n`);
    this.label = '';
  }

  private render() {
    const frames = '|/-\\';
    const seconds = Math.floor((Date.now() - this.started) / 1000);
    this.stream.write(`\r\x1b[K${frames[this.frame++ % frames.length]} ${this.label}... ${seconds} s`);
  }
}
