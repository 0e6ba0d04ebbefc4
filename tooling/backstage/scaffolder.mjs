#!/usr/bin/env node
// Runs a Software Template (template.yaml) through Backstage's own scaffolder code, without a
// Backstage backend: the parameter validation its router applies, and its workflow runner with
// its `fetch:cookiecutter` action. Needs Node 22 or newer (scaffolder-backend's nunjitsu).
//
// Usage:
//   scaffolder.mjs validate TEMPLATE... < answer-sets.json
//     For each answer set, the router's validation: each visible parameter page checked with
//     the `jsonschema` package. Prints [{refused, errors: [{question, rule, message}]}]; the
//     errors of every page are listed, not only the first refusing page's. With several
//     templates, one such list per template.
//   scaffolder.mjs run TEMPLATE < [{parameters, environment, output}, ...]
//     Runs the template's steps with NunjucksWorkflowRunner, once per entry; `environment` is
//     the backend's `scaffolder.defaultEnvironment.parameters` (app-config). `publish:github`
//     and `publish:gitlab` are replaced by a step that copies the workspace to `output` (what a
//     push would publish) and records which ran with its input, and `catalog:register` by one
//     that records its input; every other step is Backstage's.
//     Prints [{output, published, registered} or {error, log}] in the same order.
import { createRequire } from "node:module";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parse } from "yaml";

const require = createRequire(import.meta.url);
const { validate } = require("jsonschema");
const { resolveParameterSteps } = require("@backstage/plugin-scaffolder-common/alpha");

const [command, templatePath, ...others] = process.argv.slice(2);
let template = parse(readFileSync(templatePath, "utf8"));
const input = JSON.parse(readFileSync(0, "utf8"));

// The parameter pages as the router's validateParameterSteps (service/router) reads them.
function pages(values) {
  const parameters = [template.spec.parameters ?? []].flat();
  const resolved = resolveParameterSteps(
    values,
    parameters.map((schema) => ({ schema, when: schema.when })),
  );
  return parameters.filter((_, index) => resolved.visible[index]);
}

function refusal(values) {
  const errors = pages(values).flatMap((schema) =>
    validate(values, schema)
      // An allOf error only announces the errors of its subschemas, which follow it.
      .errors.filter((error) => error.name !== "allOf")
      .map((error) => ({
      // `instance.http_port`, or `instance` for a missing required answer.
      question: error.property.replace(/^instance\.?/, "") || String(error.argument),
      rule: error.schema?.description ?? null,
      message: error.stack,
    })),
  );
  return { refused: errors.length > 0, errors };
}

async function runAll(runs) {
  const backend = path.dirname(require.resolve("@backstage/plugin-scaffolder-backend"));
  // The runner is not exported; the package's own file is loaded by its path.
  const { NunjucksWorkflowRunner } = require(
    path.join(backend, "scaffolder", "tasks", "NunjucksWorkflowRunner.cjs.js"),
  );
  const { createFetchCookiecutterAction } = require(
    "@backstage/plugin-scaffolder-backend-module-cookiecutter",
  );
  const { createTemplateAction } = require("@backstage/plugin-scaffolder-node");
  const { ScmIntegrations } = require("@backstage/integration");
  const { ConfigReader } = require("@backstage/config");
  const fs = require("fs-extra");
  const winston = require("winston");

  const integrations = ScmIntegrations.fromConfig(new ConfigReader({}));
  const reader = {
    // A template beside its files is fetched from disk (file:// base URL), never read.
    readTree: async () => {
      throw new Error("no URL reader here");
    },
  };
  let result;
  let outputPath;
  const actions = [
    createFetchCookiecutterAction({ reader, integrations }),
    ...[
      ["publish:github", "https://github.com/example/published", "/blob/main"],
      ["publish:gitlab", "https://gitlab.com/example/published", "/-/blob/main"],
    ].map(([id, remoteUrl, contents]) =>
      createTemplateAction({
        id,
        async handler(ctx) {
          await fs.copy(ctx.workspacePath, outputPath);
          result.published = { action: id, ...ctx.input };
          ctx.output("remoteUrl", remoteUrl);
          ctx.output("repoContentsUrl", remoteUrl + contents);
        },
      }),
    ),
    createTemplateAction({
      id: "catalog:register",
      async handler(ctx) {
        result.registered = ctx.input;
        ctx.output("entityRef", "component:default/published");
      },
    }),
  ];
  const logger = winston.createLogger({
    level: "warn",
    transports: [new winston.transports.Console({ stderrLevels: ["error", "warn"] })],
  });
  const results = [];
  for (const { parameters, environment, output } of runs) {
    const runner = new NunjucksWorkflowRunner({
      actionRegistry: {
        get: async (id) => {
          const action = actions.find((candidate) => candidate.id === id);
          if (!action) throw new Error(`no action ${id} in this run`);
          return action;
        },
      },
      integrations,
      config: new ConfigReader({
        scaffolder: { defaultEnvironment: { parameters: environment ?? {} } },
      }),
      workingDirectory: mkdtempSync(path.join(tmpdir(), "scaffolder-")),
      logger,
      // The backend's metrics service; nothing reads the figures here.
      metrics: {
        createCounter: () => ({ add() {} }),
        createHistogram: () => ({ record() {} }),
      },
    });
    result = { published: null, registered: null };
    outputPath = output;
    const log = [];
    const task = {
      taskId: "task",
      spec: {
        apiVersion: template.apiVersion,
        steps: template.spec.steps,
        output: template.spec.output,
        parameters,
        user: {},
        templateInfo: {
          entityRef: `template:default/${template.metadata.name}`,
          baseUrl: pathToFileURL(path.resolve(templatePath)).href,
        },
      },
      secrets: {},
      isDryRun: false,
      cancelSignal: new AbortController().signal,
      getWorkspaceName: async () => "task",
      getInitiatorCredentials: async () => ({}),
      emitLog: async (message) => log.push(message),
    };
    try {
      const { output: links } = await runner.execute(task);
      results.push({ output: links, ...result });
    } catch (error) {
      results.push({ error: error.message, log: log.join("\n") });
    }
  }
  return results;
}

if (command === "validate" && others.length === 0) {
  console.log(JSON.stringify(input.map(refusal)));
} else if (command === "validate") {
  const verdicts = [];
  for (const file of [templatePath, ...others]) {
    template = parse(readFileSync(file, "utf8"));
    verdicts.push(input.map(refusal));
  }
  console.log(JSON.stringify(verdicts));
} else if (command === "run") {
  console.log(JSON.stringify(await runAll(input)));
} else {
  console.error("usage: scaffolder.mjs validate|run TEMPLATE");
  process.exit(2);
}
