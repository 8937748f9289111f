/**
 * labgen's layers, checked on every `npm test` (test/architecture/): who may import whom.
 *
 *   generator/common      the lab folder's layout, atomic writes, quoting, hashes: used by all, imports none.
 *   generator/model       what a lab is: the zod schema, the service table, defaults, rules.
 *   generator/plan        plan(lab, secrets) → files and per-host facts: pure. Reads no lab folder,
 *                         runs no program, knows no driver or command.
 *   generator/secrets     the lab's keys and passwords in .labgen/secrets/.
 *   generator/writer      decide → apply as one transaction, manifest, keep, impact.
 *   generator/lab-folder  the lab folder as a whole: load → secrets → plan → decide → commit.
 *   drivers/, rpi/        what reaches real machines (push, status; image and up to come), on one
 *                         base. They may read the lab folder; they never import a command.
 *   generator/cli         commander glue, one file a command: imported by nothing but itself
 *                         (cli/main.ts is the binary).
 * And no import cycles anywhere: each module can be read from the bottom up.
 */
const FS_OR_PROCESS = '^(node:)?(fs|fs/promises|child_process)$';

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'an import cycle: two modules that need each other belong together, or their shared part in a third',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'cli-is-glue',
      comment: 'generator/cli/ is the commands; only the binary (and other commands) import them: move shared code to lab-folder/ or a driver',
      severity: 'error',
      from: { pathNot: '^generator/cli/' },
      to: { path: '^generator/cli/' },
    },
    {
      name: 'plan-is-pure',
      comment: "the plan reads no file and runs no program: what it needs comes in as arguments (labgen's own templates through packageFile in generator/paths.ts)",
      severity: 'error',
      from: { path: '^generator/plan/' },
      to: { path: FS_OR_PROCESS },
    },
    {
      name: 'plan-knows-no-driver',
      comment: 'drivers read the plan, never the other way round',
      severity: 'error',
      from: { path: '^generator/plan/' },
      to: { path: '^(drivers|rpi)/|^generator/(cli|writer|lab-folder)/' },
    },
    {
      name: 'model-is-the-bottom',
      comment: 'lab.yaml\'s model is read by everything and reads nothing of labgen but errors',
      severity: 'error',
      from: { path: '^generator/model/' },
      to: { path: '^(drivers|rpi)/|^generator/(cli|plan|writer|lab-folder|secrets|wizard)/' },
    },
    {
      name: 'common-is-the-bottom',
      comment: 'generator/common/ (the lab folder\'s layout, atomic writes, quoting, hashes) is shared by every layer and imports none',
      severity: 'error',
      from: { path: '^generator/common/' },
      to: { path: '^(drivers|rpi)/|^generator/(?!common/)' },
    },
    {
      name: 'secrets-below-the-writer',
      comment: 'the secrets store hands its files to whoever writes them; it does not know the writer',
      severity: 'error',
      from: { path: '^generator/secrets/' },
      to: { path: '^generator/writer/' },
    },
    {
      name: 'writer-knows-no-driver',
      comment: 'the writer decides and writes the lab folder; it knows nothing of the machines',
      severity: 'error',
      from: { path: '^generator/(writer|secrets)/' },
      to: { path: '^(drivers|rpi)/|^generator/(cli|lab-folder)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|test|bench)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
