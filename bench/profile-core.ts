// Runs one function's review in a loop, in process, for a CPU profile of the core alone:
//
//   node --cpu-prof --cpu-prof-dir=prof bench/profile-core.ts volume-extension knative [seconds]
//
// Each review starts from the body text, as a server's does: parse, review, serialise.
import { benchCases } from './cases.ts';
import { measureInProcess } from './in-process.ts';
import { benchFunctions } from './targets.ts';

const [functionName = 'volume-extension', caseName = 'knative', seconds = '5'] = process.argv.slice(2);
const fn = benchFunctions.find((f) => f.name === functionName);
const benchCase = benchCases().find((c) => c.name === caseName);
if (!fn || !benchCase) {
  process.stderr.write(
    `usage: node bench/profile-core.ts <${benchFunctions.map((f) => f.name).join('|')}> <${benchCases()
      .map((c) => c.name)
      .join('|')}> [seconds]\n`,
  );
  process.exit(2);
}
const result = measureInProcess(fn, benchCase, Number(seconds));
process.stdout.write(`${JSON.stringify(result)}\n`);
