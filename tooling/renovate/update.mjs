// Renovate's own code updates one generated service's template, as its repository worker does:
// the repository's renovate.json resolved over Renovate's defaults and the runner's (global)
// settings, extraction of .copier-answers.yml, lookup of the template's tags, the branch's
// updated files (the copier manager's updateDependency and updateArtifacts, which runs
// `copier update`) and its postUpgradeTasks. Nothing is pushed: the files Renovate would commit
// to its branch, and the problems it would post on the pull request, are printed as JSON.
//
// Usage: node update.mjs SETTINGS_JSON
//   {"repository": "file:///path/to/service", "workDir": "/scratch", "global": {...}}
// `global` is the runner's configuration (allowScripts, allowedCommands, ...).
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

import { GlobalConfig } from 'renovate/dist/config/global.js';
import { getConfig } from 'renovate/dist/config/defaults.js';
import { mergeChildConfig } from 'renovate/dist/config/utils.js';
import { mergeRenovateConfig } from 'renovate/dist/workers/repository/init/merge.js';
import * as git from 'renovate/dist/util/git/index.js';
import { setPlatformScmApi } from 'renovate/dist/modules/platform/scm.js';
import { initRepoCache } from 'renovate/dist/util/cache/repository/init.js';
import { extract, lookup } from 'renovate/dist/workers/repository/process/extract-update.js';
import { getUpdatedPackageFiles } from 'renovate/dist/workers/repository/update/branch/get-updated.js';
import executePostUpgradeCommands from 'renovate/dist/workers/repository/update/branch/execute-post-upgrade-commands.js';

const settings = JSON.parse(process.argv[2]);
const localDir = path.join(settings.workDir, 'repository');
const cacheDir = path.join(settings.workDir, 'cache');

const globalConfig = {
  localDir,
  cacheDir,
  binarySource: 'global',
  platform: 'gitlab',
  dryRun: null,
  ...settings.global,
};
GlobalConfig.set(globalConfig);
setPlatformScmApi('gitlab');
git.setGitAuthor('Renovate Bot <renovate@example.com>');

let config = mergeChildConfig(getConfig(), globalConfig);
config = {
  ...config,
  repository: 'team/service',
  baseBranch: 'main',
  defaultBranch: 'main',
  onboarding: false,
  requireConfig: 'optional',
};
await mkdir(localDir, { recursive: true });
await git.initRepo({ ...config, url: settings.repository });
await git.syncGit();
await initRepoCache(config);

// The repository's renovate.json as Renovate's repository init reads it: migrated, validated,
// its presets resolved (config:recommended is built in) and merged over the runner's config.
config = await mergeRenovateConfig(config);
// Only the copier manager: the others would look up crates and images on the network.
config.enabledManagers = ['copier'];
config.baseBranches = ['main'];
config.errors = [];
config.warnings = [];

const packageFiles = await extract(config);
const { branches } = await lookup(config, packageFiles);

const result = { branches: [] };
for (const branch of branches) {
  const branchConfig = { ...branch, baseBranch: 'main', reuseExistingBranch: false };
  await git.checkoutBranch('main');
  const updated = await getUpdatedPackageFiles(branchConfig);
  Object.assign(branchConfig, updated);
  let artifactErrors = [...(updated.artifactErrors ?? [])];
  let updatedArtifacts = [...(updated.updatedArtifacts ?? [])];
  const post = await executePostUpgradeCommands(branchConfig);
  if (post) {
    updatedArtifacts = post.updatedArtifacts;
    artifactErrors = post.artifactErrors;
  }
  // The files of the commit: artifacts replace what the package-file step wrote.
  const files = new Map();
  for (const file of [...(updated.updatedPackageFiles ?? []), ...updatedArtifacts]) {
    files.set(file.path, {
      type: file.type,
      contents: file.contents == null ? null : Buffer.from(file.contents).toString('utf8'),
    });
  }
  result.branches.push({
    branchName: branch.branchName,
    prTitle: branch.prTitle,
    upgrades: branch.upgrades.map((u) => ({
      depName: u.depName,
      currentValue: u.currentValue,
      newValue: u.newValue,
      prBodyNotes: u.prBodyNotes ?? [],
    })),
    files: Object.fromEntries(files),
    artifactErrors: artifactErrors.map((e) => ({ file: e.fileName ?? e.lockFile ?? null, message: e.stderr ?? null })),
  });
}
process.stdout.write(`${JSON.stringify(result)}\n`);
