// Mocha's spec output, plus the counts written to .data/test-summary for scripts/test.sh's closing line.
const fs = require('node:fs');
const path = require('node:path');
const Mocha = require('mocha');

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const dir = path.join(__dirname, '..', '..', '.data');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'test-summary'), `${this.stats.passes} ${this.stats.failures}`);
    });
  }
}
module.exports = SummaryReporter;
