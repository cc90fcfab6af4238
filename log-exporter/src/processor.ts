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

  /**
   * A byte splitter feeding this processor (file and stdin sources, one-shot mode). A chunk's lines share its read
   * time: one clock read per chunk instead of per line (the hot path runs in the bytecode interpreter in the image).
   */
  splitter(maxLineBytes: number): LineSplitter {
    const { state, classifier } = this;
    let readSeconds = Date.now() / 1000;
    return new LineSplitter(maxLineBytes, {
      chunk: () => {
        readSeconds = Date.now() / 1000;
      },
      line: (t) => applyLine(state, t, classifier.classify(t), readSeconds),
      oversized: () => applyLine(state, undefined, undefined, readSeconds),
    });
  }
}
