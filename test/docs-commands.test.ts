// Every command a user would paste from README.md and docs/*.md (shell code blocks, indented
// blocks, and inline code that starts with one of the tools), checked against what the tool
// accepts: `func` flags against the flag table of the func release the docs name
// (test/data/func-cli-flags.json, taken from knative/func's sources, with the rules its deploy
// command enforces); for faas-cli, kubectl, npm run / ./dev: that scripts exist, that function
// names are the registry's and that the files and folders named exist.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { commands as cliCommands } from '../cli/main.ts';
import { functions } from '../functions/index.ts';
import { projectRoot, sharedDir } from './support/apiserver.ts';

interface FuncFlag {
  short: string | null;
  type: string;
  default: string | null;
}
const funcTable = JSON.parse(
  readFileSync(join(projectRoot, 'test', 'data', 'func-cli-flags.json'), 'utf8'),
) as {
  source: { tag: string };
  commands: Record<string, { flags: Record<string, FuncFlag> }>;
};
const FUNC_VERSION = funcTable.source.tag.replace(/^knative-v/, '');

const registry = new Set(functions.keys());
const packageScripts = Object.keys(
  JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')).scripts,
);
const stackFunctions = Object.keys(parseYaml(readFileSync(join(projectRoot, 'stack.yml'), 'utf8')).functions);
const topFunction = parseYaml(readFileSync(join(projectRoot, 'func.yaml'), 'utf8')).name as string;
const deployed = readdirSync(join(projectRoot, 'deploy'))
  .filter((file) => file.endsWith('.yaml'))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(projectRoot, 'deploy', file), 'utf8')).map(
      (d) => d.toJS() as { kind?: string; metadata?: { name?: string } },
    ),
  )
  .filter((object) => object?.kind);

/** Files the commands themselves write (certificates, output folders): not in the checkout. */
const GENERATED = /^(\.certs|\.dev-certs|dist|deploy-no-cert-manager|overlays)(\/|$)/;
const REPO_PATH =
  /^(\.\.\/shared|samples|docs|deploy|functions|runtimes|scripts|dashboards|shared|cli|test|bench|openfaas)(\/|$)|^[\w.-]+\.(json|ya?ml|ts)$/;

interface Command {
  doc: string;
  text: string;
  env: Record<string, string>;
  args: string[];
  /** The file a `<` redirection reads. */
  stdin?: string;
  /** Folders earlier commands of the same block wrote (`--out DIR`, `mkdir DIR`). */
  written: string[];
}

/** The code a reader would paste: fenced shell blocks, indented blocks, tool-led inline code. */
export function codeOf(markdown: string): string[] {
  const blocks: string[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const fence = lines[i]?.match(/^\s*```(\w*)/);
    if (fence) {
      const body: string[] = [];
      for (i++; i < lines.length && !/^\s*```/.test(lines[i] as string); i++) body.push(lines[i] as string);
      if (['', 'sh', 'bash', 'shell', 'console'].includes(fence[1] ?? '')) blocks.push(body.join('\n'));
      continue;
    }
    if (/^ {4,}\S/.test(lines[i] as string) && (i === 0 || (lines[i - 1] ?? '').trim() === '')) {
      const body: string[] = [];
      for (; i < lines.length && (/^ {4,}/.test(lines[i] as string) || (lines[i] ?? '').trim() === ''); i++)
        body.push((lines[i] as string).replace(/^ {4,7}/, ''));
      i--;
      blocks.push(body.join('\n'));
      continue;
    }
    for (const [, span] of (lines[i] as string).matchAll(/`([^`]+)`/g)) {
      if (/^(func|faas-cli|kubectl|npm|\.\/dev|npx) /.test(span as string)) blocks.push(span as string);
    }
  }
  return blocks;
}

/** Words and operators of shell text, quotes removed; `$(...)` kept as one word. */
function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      word = (word ?? '') + text.slice(i + 1, end < 0 ? undefined : end);
      i = end < 0 ? text.length : end;
    } else if (c === '$' && text[i + 1] === '(') {
      let depth = 0;
      let j = i + 1;
      for (; j < text.length; j++) {
        if (text[j] === '(') depth++;
        if (text[j] === ')' && --depth === 0) break;
      }
      word = `${word ?? ''}${text.slice(i, j + 1)}`;
      i = j;
    } else if (c === '#' && word === undefined) {
      while (i < text.length && text[i] !== '\n') i++;
      i--;
    } else if (/\s/.test(c) && c !== '\n') {
      if (word !== undefined) tokens.push(word);
      word = undefined;
    } else if (c === '<' && /^<[\w.-]+>/.test(text.slice(i))) {
      // A placeholder such as <name> or <digest>, not a redirection.
      const end = text.indexOf('>', i);
      word = (word ?? '') + text.slice(i, end + 1);
      i = end;
    } else if ('\n;|&<>'.includes(c)) {
      if (word !== undefined) tokens.push(word);
      word = undefined;
      const two = text.slice(i, i + 2);
      if (['&&', '||', '<<'].includes(two)) {
        tokens.push(two);
        i++;
      } else tokens.push(c === '\n' ? ';' : c);
    } else word = (word ?? '') + c;
  }
  if (word !== undefined) tokens.push(word);
  return tokens;
}

/** The commands of a block, with `for x in ...` loops unrolled and `\` continuations joined. */
export function commandsOf(doc: string, block: string): Command[] {
  // Heredoc bodies are data, not commands.
  const lines: string[] = [];
  const source = block.replace(/\\\n/g, ' ').split('\n');
  for (let i = 0; i < source.length; i++) {
    const line = (source[i] as string).replace(/^\$ /, '');
    lines.push(line);
    const heredoc = line.match(/<<-?\s*'?(\w+)'?/);
    if (heredoc) while (i + 1 < source.length && (source[i + 1] as string).trim() !== heredoc[1]) i++;
    if (heredoc) i++;
  }
  const variables: Record<string, string> = {};
  for (const line of lines) {
    const assignment = line.match(/^(\w+)=(.*)$/);
    // A value known only at run time: its comment shows what it looks like.
    if (assignment)
      variables[assignment[1] as string] = /@sha256:/.test(assignment[2] as string)
        ? 'image@sha256:<digest>'
        : '<value>';
  }
  const tokens = tokenize(lines.join('\n').replace(/<<-?\s*'?\w+'?/g, ''));
  const commands: Command[] = [];
  const written: string[] = [];
  const loops: { variable: string; values: string[]; body: string[][] }[] = [];
  let current: string[] = [];
  const flush = () => {
    if (current.length === 0) return;
    const loop = loops.at(-1);
    if (loop) loop.body.push(current);
    else emit(current, {});
    current = [];
  };
  const emit = (words: string[], bound: Record<string, string>) => {
    const substituted = words.map((w) =>
      w.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => bound[name] ?? variables[name] ?? whole),
    );
    const env: Record<string, string> = {};
    while (substituted[0] && /^\w+=/.test(substituted[0])) {
      const [name, ...value] = (substituted.shift() as string).split('=');
      env[name as string] = value.join('=');
    }
    let stdin: string | undefined;
    const redirect = substituted.indexOf('<');
    if (redirect >= 0) {
      stdin = substituted[redirect + 1];
      substituted.splice(redirect, 2);
    }
    if (substituted.length === 0) return;
    commands.push({
      doc,
      text: words.join(' '),
      env,
      args: substituted,
      written: [...written],
      ...(stdin ? { stdin } : {}),
    });
    substituted.forEach((word, at) => {
      const next = substituted[at + 1];
      if (word === '--out' && next) written.push(next);
      if (word.startsWith('--out=')) written.push(word.slice('--out='.length));
    });
    if (substituted[0] === 'mkdir') written.push(...substituted.slice(1).filter((w) => !w.startsWith('-')));
  };
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    if (token === 'for' && current.length === 0) {
      const variable = tokens[i + 1] as string;
      const values: string[] = [];
      for (i += 3; i < tokens.length && ![';', 'do'].includes(tokens[i] as string); i++)
        values.push(tokens[i] as string);
      while (tokens[i] === ';' || tokens[i] === 'do') i++;
      i--;
      loops.push({ variable, values, body: [] });
    } else if (token === 'done' && current.length === 0) {
      const loop = loops.pop();
      if (loop)
        for (const value of loop.values) for (const body of loop.body) emit(body, { [loop.variable]: value });
    } else if ([';', '&&', '||', '|', '&'].includes(token)) flush();
    else if (token === 'do' && current.length === 0) continue;
    else current.push(token);
  }
  flush();
  return commands;
}

const documents = [
  'README.md',
  ...readdirSync(join(projectRoot, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const allCommands = documents.flatMap((doc) =>
  codeOf(readFileSync(join(projectRoot, doc), 'utf8')).flatMap((block) => commandsOf(doc, block)),
);
const toolOf = (c: Command) => (c.args[0] === 'npx' ? `npx ${c.args[1]}` : (c.args[0] as string));

const placeholder = (value: string) => /<[^>]*>|\.\.\.|\$/.test(value);

/** A path inside a folder an earlier command of the block wrote. */
const writtenBefore = (command: Command, path: string) =>
  command.written.some((dir) => path === dir || path.startsWith(`${dir.replace(/\/$/, '')}/`));

/** Problems with the files and folders a command names. */
function pathProblems(command: Command): string[] {
  const problems: string[] = [];
  const candidates = [...command.args.slice(1), ...(command.stdin ? [command.stdin] : [])];
  for (let raw of candidates) {
    // @file (curl), --flag=path, and kubectl's --from-file=key=path.
    raw = raw
      .replace(/^@/, '')
      .replace(/^--[\w-]+=/, '')
      .replace(/^[\w.-]+=(?=[\w./])/, '');
    if (placeholder(raw) || GENERATED.test(raw) || writtenBefore(command, raw) || !REPO_PATH.test(raw))
      continue;
    const onDisk = raw.startsWith('../shared/')
      ? join(sharedDir, raw.slice('../shared/'.length))
      : join(projectRoot, raw);
    if (!existsSync(onDisk)) problems.push(`${raw} does not exist`);
  }
  return problems;
}

/** What func would refuse, by the flag table and the rules of its deploy command. */
function funcProblems(command: Command): string[] {
  const [, sub, ...rest] = command.args;
  const table = funcTable.commands[sub as string];
  if (!table)
    return [
      `func ${sub}: no such command in func ${FUNC_VERSION} (known: ${Object.keys(funcTable.commands).join(', ')})`,
    ];
  const problems: string[] = [];
  const values: Record<string, string> = {};
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (!arg.startsWith('-')) {
      problems.push(`func ${sub}: unexpected argument "${arg}"`);
      continue;
    }
    const [flagText, inline] = arg.split(/=(.*)/s) as [string, string | undefined];
    const name = flagText.startsWith('--')
      ? flagText.slice(2)
      : Object.entries(table.flags).find(([, f]) => f.short === flagText.slice(1))?.[0];
    const flag = name ? table.flags[name] : undefined;
    if (!name || !flag) {
      problems.push(`func ${sub}: no flag ${flagText} in func ${FUNC_VERSION}`);
      continue;
    }
    // Booleans take a value only as --flag=value; --build is a string with an optional value.
    let value = inline;
    if (value === undefined && flag.type !== 'bool' && name !== 'build') value = rest[++i];
    if (value === undefined) value = 'true';
    if (flag.type === 'bool' && !/^(true|false|1|0|t|f)$/i.test(value))
      problems.push(`func ${sub} --${name}=${value}: not a boolean`);
    values[name] = value;
  }
  if (sub === 'deploy') {
    const image = values.image ?? '';
    const digested = /@sha256:/.test(image);
    const truthy = (v: string | undefined) => /^(true|1|t)$/i.test(v ?? '');
    const push = values.push ?? table.flags.push?.default ?? 'true';
    if (digested && truthy(values.build))
      problems.push('func deploy: building can not be enabled when using an image with digest');
    if (digested && truthy(push))
      problems.push(
        'func deploy: pushing is not valid when specifying an image with digest (add --push=false)',
      );
    if (!values.remote && (values['git-url'] || values['git-dir'] || values['git-branch']))
      problems.push('func deploy: git settings are only applicable with --remote');
  }
  const path = values.path;
  if (path && !placeholder(path) && !existsSync(join(projectRoot, path, 'func.yaml')))
    problems.push(`func ${sub} --path ${path}: no func.yaml there`);
  const file = values.file;
  if (file && !existsSync(join(projectRoot, file))) problems.push(`func ${sub} --file ${file}: no such file`);
  return problems;
}

const KUBE_KINDS: Record<string, string> = {
  deployment: 'Deployment',
  certificate: 'Certificate',
  ksvc: 'Service',
  mutatingwebhookconfiguration: 'MutatingWebhookConfiguration',
};

function kubectlProblems(command: Command): string[] {
  const problems: string[] = [];
  const args = command.args.slice(1);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const next = args[i + 1];
    if (
      arg === '-k' &&
      next &&
      !existsSync(join(projectRoot, next, 'kustomization.yaml')) &&
      !GENERATED.test(next) &&
      !placeholder(next)
    )
      problems.push(`kubectl -k ${next}: no kustomization.yaml`);
    if (
      arg === '-f' &&
      next &&
      next !== '-' &&
      !/^https?:/.test(next) &&
      !GENERATED.test(next) &&
      !writtenBefore(command, next) &&
      !existsSync(join(projectRoot, next))
    )
      problems.push(`kubectl -f ${next}: no such file`);
    const reference = arg.match(/^(deployment|certificate|ksvc)\/([\w-]+)$/);
    if (reference) {
      const [, kind, name] = reference;
      if (!deployed.some((o) => o.kind === KUBE_KINDS[kind as string] && o.metadata?.name === name))
        problems.push(`kubectl ${arg}: deploy/ has no ${KUBE_KINDS[kind as string]} ${name}`);
    }
    if (KUBE_KINDS[arg] && next && !next.startsWith('-') && arg === 'mutatingwebhookconfiguration') {
      if (!deployed.some((o) => o.kind === 'MutatingWebhookConfiguration' && o.metadata?.name === next))
        problems.push(`kubectl ${arg} ${next}: deploy/ has no such configuration`);
    }
  }
  return problems;
}

function npmProblems(command: Command): string[] {
  const problems: string[] = [];
  const args = command.args.slice(1).filter((a) => a !== '--silent');
  const [verb, script] = args;
  const named = verb === 'run' ? script : ['start', 'test'].includes(verb as string) ? verb : undefined;
  if (named && !packageScripts.includes(named))
    problems.push(`${command.args[0]} ${verb} ${named}: no such script in package.json`);
  if (named === 'invoke' && args.includes('--')) {
    const after = args.slice(args.indexOf('--') + 1).filter((a) => !a.startsWith('-') || a === '-');
    const [fn, file] = after;
    if (fn && placeholder(fn)) return problems;
    if (!fn || !registry.has(fn)) problems.push(`invoke: "${fn}" is not a function of the registry`);
    if (file && file !== '-' && !existsSync(join(projectRoot, file)))
      problems.push(`invoke: ${file} does not exist`);
  }
  if (named === 'faas-admission' && args.includes('--'))
    problems.push(...faasAdmissionProblems(args.slice(args.indexOf('--') + 1)));
  if (named === 'start') {
    for (const fn of [command.env.FUNCTION, ...(command.env.CHAIN?.split(',') ?? [])])
      if (fn !== undefined && !registry.has(fn))
        problems.push(`FUNCTION/CHAIN ${fn}: not a function of the registry`);
  }
  return problems;
}

const helpOf = new Map<string, string>();
/** `faas-admission <command> --help`, once per command. */
function commandHelp(command: string): string {
  let help = helpOf.get(command);
  if (help === undefined) {
    help = spawnSync(process.execPath, [join(projectRoot, 'bin', 'faas-admission.js'), command, '--help'], {
      encoding: 'utf8',
    }).stdout;
    helpOf.set(command, help);
  }
  return help;
}

/** The command exists, its flags are in its --help, a function named is the registry's. */
function faasAdmissionProblems(args: string[]): string[] {
  const [command, ...rest] = args;
  if (command && placeholder(command)) return [];
  if (!command || !cliCommands.has(command))
    return [`faas-admission ${command}: no such command (known: ${[...cliCommands.keys()].join(', ')})`];
  const problems: string[] = [];
  const help = commandHelp(command);
  for (const arg of rest) {
    const flag = arg.split('=')[0] as string;
    if (flag.startsWith('--') && !new RegExp(`${flag}(?![\\w-])`).test(help))
      problems.push(`faas-admission ${command} ${flag}: not an option of the command`);
  }
  if (command === 'invoke' && rest[0] && !placeholder(rest[0]) && !registry.has(rest[0]))
    problems.push(`faas-admission invoke: "${rest[0]}" is not a function of the registry`);
  return problems;
}

function faasCliProblems(command: Command): string[] {
  const problems: string[] = [];
  const args = command.args.slice(1);
  const known = [
    'up',
    'build',
    'push',
    'deploy',
    'publish',
    'secret',
    'login',
    'template',
    'store',
    'list',
    'describe',
    'remove',
    'logs',
    'invoke',
    'version',
    'new',
  ];
  if (!known.includes(args[0] as string)) problems.push(`faas-cli ${args[0]}: not a faas-cli command`);
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-f' && !existsSync(join(projectRoot, args[i + 1] as string)))
      problems.push(`faas-cli -f ${args[i + 1]}: no such file`);
    if (args[i] === '--filter' && !stackFunctions.includes(args[i + 1] as string))
      problems.push(`faas-cli --filter ${args[i + 1]}: not in stack.yml`);
  }
  return problems;
}

function problemsOf(command: Command): string[] {
  const tool = toolOf(command);
  const problems = pathProblems(command);
  if (tool === 'func') problems.push(...funcProblems(command));
  if (tool === 'kubectl') problems.push(...kubectlProblems(command));
  if (tool === 'npm' || tool === './dev') problems.push(...npmProblems(command));
  if (tool === 'faas-cli') problems.push(...faasCliProblems(command));
  return problems;
}

describe('the commands in README.md and docs/', () => {
  it('finds the commands a user would paste', () => {
    const tools = new Set(allCommands.map(toolOf));
    for (const tool of ['func', 'kubectl', './dev', 'npm', 'curl'])
      assert.ok(tools.has(tool), `no ${tool} command found`);
    assert.ok(allCommands.length > 40, `${allCommands.length} commands`);
  });

  for (const doc of documents) {
    const commands = allCommands.filter(
      (c) =>
        c.doc === doc &&
        ['func', 'kubectl', 'npm', './dev', 'faas-cli', 'curl', 'npx faas-js-runtime'].includes(toolOf(c)),
    );
    if (commands.length === 0) continue;
    it(`${doc}: every func, faas-cli, kubectl, npm and ./dev command works as written`, () => {
      const problems = commands.flatMap((c) => problemsOf(c).map((p) => `${c.text}\n    -> ${p}`));
      assert.deepEqual(problems, []);
    });
  }

  it('deploys every function of the registry wherever the docs deploy them with func', () => {
    for (const doc of documents) {
      const deploys = allCommands.filter(
        (c) => c.doc === doc && c.args[0] === 'func' && c.args[1] === 'deploy',
      );
      // Only where the docs deploy functions one by one (--path), not a mention of `func deploy`.
      if (!deploys.some((c) => c.args.some((a) => a === '--path' || a === '-p' || a.startsWith('--path='))))
        continue;
      const named = new Set(
        deploys.map((c) => {
          const at = c.args.findIndex((a) => a === '--path' || a === '-p' || a.startsWith('--path='));
          const path =
            at < 0 ? undefined : c.args[at]?.includes('=') ? c.args[at]?.split('=')[1] : c.args[at + 1];
          return path === undefined ? topFunction : path.replace(/^functions\//, '');
        }),
      );
      // A placeholder (functions/<name>) stands for "each function", as the text around it says.
      if ([...named].some(placeholder)) continue;
      assert.deepEqual([...named].filter((n) => !placeholder(n)).sort(), [...registry].sort(), doc);
    }
  });

  it('names the func release its flags were checked against', () => {
    const knative = readFileSync(join(projectRoot, 'docs', 'knative.md'), 'utf8');
    assert.match(knative, new RegExp(`func ${FUNC_VERSION.replace(/\./g, '\\.')}`));
    assert.match(knative, /test\/data\/func-cli-flags\.json/);
  });
});

describe('the command checks themselves', () => {
  const check = (text: string) => commandsOf('x', text).flatMap(problemsOf);
  it('refuse what func refuses, and accept what it accepts', () => {
    assert.deepEqual(
      check('func deploy --path functions/node-selector --image r/x@sha256:abc --build=false --push=false'),
      [],
    );
    assert.match(
      check('func deploy --path functions/node-selector --image r/x@sha256:abc --build=false').join(),
      /pushing is not valid/,
    );
    assert.match(
      check('func deploy --image r/x@sha256:abc --build --push=false').join(),
      /building can not be enabled/,
    );
    assert.match(check('func deploy --name x').join(), /no flag --name/);
    assert.match(check('func deploy --path functions/nope --build=false').join(), /no func.yaml/);
    assert.match(check('func invoke --file samples/none.json').join(), /no such file/);
  });
  it('know the folders an earlier command of the block wrote, and only those', () => {
    assert.deepEqual(
      check('npm run manifests -- --out my-hooks\nkubectl apply -f my-hooks/webhooks.yaml'),
      [],
    );
    assert.match(check('kubectl apply -f my-hooks/webhooks.yaml').join(), /no such file/);
    assert.match(
      check('kubectl apply -f my-hooks/webhooks.yaml\nnpm run manifests -- --out my-hooks').join(),
      /no such file/,
    );
  });
  it('unroll loops and check the names and files in them', () => {
    assert.match(
      check(
        'for fn in node-selector nope; do\n  ./dev run invoke -- "$fn" samples/plain-pod.json\ndone',
      ).join(),
      /"nope" is not a function/,
    );
    assert.match(check('kubectl apply -k nowhere/').join(), /no kustomization/);
    assert.match(check('./dev run nothing').join(), /no such script/);
    assert.deepEqual(check('./dev run --silent faas-admission -- test samples/tests --junit out.xml'), []);
    assert.match(check('./dev run --silent faas-admission -- chek x.yaml').join(), /no such command/);
    assert.match(
      check(
        './dev run --silent faas-admission -- invoke volume-extension samples/plain-pod.json --podd',
      ).join(),
      /--podd: not an option/,
    );
    assert.match(
      check('./dev run --silent faas-admission -- invoke nope samples/plain-pod.json').join(),
      /"nope"/,
    );
    assert.match(check('faas-cli up -f stack.yml --filter nope').join(), /not in stack.yml/);
    assert.deepEqual(check("kubectl -n default apply -f - <<'EOF'\napiVersion: v1\nEOF"), []);
  });
});
