'use strict';
const { relative } = require('node:path');

/**
 * Ends a jest run with the plain closing line CI tooling reads:
 * `tests: N passed, N failed` (and `, N skipped` when any were).
 *
 * "failed" counts failed test cases plus every spec file that failed outside its test cases: one
 * that did not compile or load, or whose hooks (afterAll, say) threw while all its tests passed.
 * Such a file makes jest fail the run, so it must never be summed up as "0 failed". Each one is
 * named on a line of its own before the closing line.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const suiteFailures = results.testResults.filter(failedOutsideItsTests);
    for (const suite of suiteFailures) {
      process.stdout.write(`suite failed outside its tests: ${relative(process.cwd(), suite.testFilePath)}\n`);
    }
    let failed = results.numFailedTests + suiteFailures.length;
    // Anything else jest counts as a failed suite, or an error of the run itself, is at least one
    // failure. (`results.success` is not set yet when reporters are called: it is always false here.)
    if (failed === 0 && (results.numFailedTestSuites > 0 || results.numRuntimeErrorTestSuites > 0 || results.runExecError)) {
      failed = Math.max(1, results.numFailedTestSuites, results.numRuntimeErrorTestSuites);
    }
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `tests: ${results.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
    process.stdout.write(`${line}\n`);
  }
}

/** A spec file that could not run (compile or load error, a throwing afterAll) or failed with no failed test to show for it. */
function failedOutsideItsTests(suite) {
  return Boolean(suite.testExecError) || (Boolean(suite.failureMessage) && suite.numFailingTests === 0);
}

module.exports = SummaryReporter;
