// Glue of the pure parts: a line (from any source) → classification → state. Used by every mode.
import { createClassifier, type Classifier } from './classify.js';
import { LineSplitter } from './line-splitter.js';
import type { Protocol } from '../../common/contracts/protocols.js';
import { applyLine, initialState, type ExporterState } from './state.js';

export class LineProcessor {
  readonly state: ExporterState;
  private readonly classifier: Classifier;

  constructor(type: Protocol, opts: { probeFailuresForDown?: number } = {}) {
    this.state = initialState(type, opts.probeFailuresForDown);
    this.classifier = createClassifier(type);
  }

  /** `history`: a line from before the exporter started, which sets the state but counts nothing (state.ts). */
  line(text: string, sourceSeconds?: number, history = false): void {
    applyLine(this.state, text, this.classifier.classify(text), Date.now() / 1000, sourceSeconds, history);
  }

  /** A line dropped for its size: counted as unmatched. */
  oversized(sourceSeconds?: number): void {
    applyLine(this.state, undefined, undefined, Date.now() / 1000, sourceSeconds);
  }

  /** A byte splitter feeding this processor (file and stdin sources, one-shot mode). */
  splitter(maxLineBytes: number): LineSplitter {
    return new LineSplitter(maxLineBytes, { line: (t) => this.line(t), oversized: () => this.oversized() });
  }
}
