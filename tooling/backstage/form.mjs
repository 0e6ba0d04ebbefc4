#!/usr/bin/env node
// Checks template.yaml's parameter pages as Backstage's *frontend form* does: the "next"
// scaffolder's Stepper of @backstage/plugin-scaffolder-react 3.0.0 (the release of
// scaffolder-backend 4.3.0 and scaffolder-common 2.4.0), which renders each page with
// @rjsf/core 5.24.13 and validates it on "Next" with @rjsf/validator-ajv8 5.24.13 (ajv 8).
// The backend's own check (scaffolder.mjs: the `jsonschema` package) accepts schemas ajv 8
// refuses to compile; a page that does not compile refuses every answer in the browser.
//
// Usage:
//   form.mjs validate TEMPLATE... < answer-sets.json
//     For each answer set (the form's state: every question's value), each visible page as
//     the Stepper submits it. Prints [{refused, pages, compileErrors, warnings, replaced,
//     errors}] (pages: the visible pages' titles); with several templates, one list per
//     template.
//       compileErrors: [{page, message}]: the page's schema (as the form gets it, whole, with
//         its if/then/else) or the schema the form validates does not compile, or rjsf met a
//         schema it could not use (it logs and carries on: a condition it cannot compile
//         counts as false).
//       warnings: [{page, message}]: the rest of what rjsf logs (an allOf json-schema-merge-allof
//         cannot merge is dropped from the schema a question is rendered with; `enumNames`
//         is deprecated).
//       replaced: [{page, question, given, submitted}]: answers the form's state holds as
//         something else, so that they are neither submitted nor refused: rjsf's
//         getDefaultFormState puts a question's default in place of a choice not in its list.
//       errors: [{page, question, keyword, message, fieldMessage, schemaDescription}], every
//         visible page's: `message` is the line of the error list at the top of the page
//         (Backstage's ErrorListTemplate), `fieldMessage` the text under the field (rjsf's
//         error message), `schemaDescription` the `description` of the (sub)schema whose
//         keyword failed, which the form never shows. A compile failure is an error with
//         question null, as the form lists it.
//
// What is Backstage's, copied (scaffolder-react is a browser package: React, Material UI):
// extractSchemaFromStep (dist/next/lib/schema.esm.js), useTemplateSchema's page preparation
// (dist/next/hooks/useTemplateSchema.esm.js; feature flags count as off), the Stepper's
// validator (`customizeValidator()` then `ajvErrors(validator.ajv)`, Stepper.esm.js) and
// ErrorListTemplate's line (Stepper/ErrorListTemplate/errorListTemplate.esm.js). What rjsf's
// Form does on submit is done with rjsf's own functions: the state's form data is
// getDefaultFormState(page, state) with the Stepper's experimental_defaultFormStateBehavior,
// then validateFormData(formData, retrieveSchema(page, formData), no customValidate, no
// transformErrors, the page's uiSchema). A text answer "" is no answer: rjsf's inputs turn
// an emptied field into undefined (BaseInputTemplate's emptyValue). Not run: the validators
// of custom field extensions (the Stepper's createAsyncValidators, e.g. RepoUrlPicker's), which
// only check questions with a `ui:field`, and the browser's own check of empty required inputs.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";

const require = createRequire(import.meta.url);
const { customizeValidator } = require("@rjsf/validator-ajv8");
const { createSchemaUtils } = require("@rjsf/utils");
const ajvErrorsModule = require("ajv-errors");
const flatted = require("flatted");
const startCase = require("lodash/startCase");
const { resolveParameterSteps } = require("@backstage/plugin-scaffolder-common/alpha");

// Stepper.esm.js: `const validator = customizeValidator(); ajvErrors(validator.ajv);`, made
// once when the app loads and shared by every page and render. One per template here, as for
// a user filling in the form once per answer set; each answer set gets its own copy of the
// pages, as each render of the Stepper makes new ones (useTemplateSchema), because ajv keeps a
// schema object it failed to check and compiles that same object the next time unchecked.
// Compiling is most of the time taken, so a schema text that compiled once is not compiled
// again (the same text compiles the same way); one that failed is compiled, and fails, anew.
const COMPILED = new Map();
function formValidator() {
  const validator = customizeValidator();
  (ajvErrorsModule.default ?? ajvErrorsModule)(validator.ajv);
  const compile = validator.ajv.compile.bind(validator.ajv);
  validator.ajv.compile = (schema, meta) => {
    const key = JSON.stringify(schema);
    if (!COMPILED.has(key)) COMPILED.set(key, compile(schema, meta));
    return COMPILED.get(key);
  };
  return validator;
}
// Stepper's <Form experimental_defaultFormStateBehavior>.
const DEFAULT_FORM_STATE_BEHAVIOR = { allOf: "populateDefaults" };

// --- Copied from scaffolder-react 3.0.0 dist/next/lib/schema.esm.js -----------------------
function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
function extractUiSchema(schema, uiSchema) {
  if (!isObject(schema)) {
    return;
  }
  const { properties, items, anyOf, oneOf, allOf, dependencies, then, else: _else } = schema;
  for (const propName in schema) {
    if (!Object.prototype.hasOwnProperty.call(schema, propName)) continue;
    if (propName.startsWith("ui:")) {
      uiSchema[propName] = schema[propName];
      delete schema[propName];
    }
  }
  if (isObject(properties)) {
    for (const propName in properties) {
      if (!Object.prototype.hasOwnProperty.call(properties, propName)) continue;
      const schemaNode = properties[propName];
      if (!isObject(schemaNode)) continue;
      if (!isObject(uiSchema[propName])) {
        uiSchema[propName] = {};
      }
      extractUiSchema(schemaNode, uiSchema[propName]);
    }
  }
  if (isObject(items)) {
    const innerUiSchema = {};
    uiSchema.items = innerUiSchema;
    extractUiSchema(items, innerUiSchema);
  }
  for (const list of [anyOf, oneOf, allOf]) {
    if (!Array.isArray(list)) continue;
    for (const schemaNode of list) {
      if (isObject(schemaNode)) extractUiSchema(schemaNode, uiSchema);
    }
  }
  if (isObject(dependencies)) {
    for (const depName of Object.keys(dependencies)) {
      const schemaNode = dependencies[depName];
      if (isObject(schemaNode)) extractUiSchema(schemaNode, uiSchema);
    }
  }
  if (isObject(then)) extractUiSchema(then, uiSchema);
  if (isObject(_else)) extractUiSchema(_else, uiSchema);
}
function extractSchemaFromStep(inputStep) {
  const uiSchema = {};
  const returnSchema = flatted.parse(flatted.stringify(inputStep));
  extractUiSchema(returnSchema, uiSchema);
  return { uiSchema, schema: returnSchema };
}
// --------------------------------------------------------------------------------------------

// The backend's /v2/templates/.../parameter-schema answer (scaffolder-backend 4.3.0
// dist/service/router.cjs.js), then useTemplateSchema: the page's title leaves its schema,
// and pages and questions behind a feature flag (`ui:backstage.featureFlag`) are left out.
function templateSteps(template) {
  const parameters = [template.spec.parameters ?? []].flat();
  const manifestSteps = parameters.map(({ when, ...schema }) => ({
    title: schema.title ?? "Please enter the following information",
    description: schema.description,
    ...(typeof when === "string" || typeof when === "boolean" ? { when } : {}),
    schema,
  }));
  const featureFlagOn = () => false;
  return manifestSteps
    .map((step) => ({
      title: step.title,
      description: step.description,
      ...(step.when !== undefined ? { when: step.when } : {}),
      mergedSchema: step.schema,
      ...extractSchemaFromStep(step.schema),
    }))
    .filter((step) => {
      const flag = step.uiSchema["ui:backstage"]?.featureFlag;
      return flag ? featureFlagOn(flag) : true;
    })
    .map((step) => {
      const { title, ...stepSchema } = step.schema;
      const stripped = { ...step, schema: { ...stepSchema } };
      if (step.schema?.properties || !step.schema?.dependencies) {
        stripped.schema.properties = Object.fromEntries(
          Object.entries(step.schema?.properties ?? {}).filter(([key]) => {
            const flag = step.uiSchema[key]?.["ui:backstage"]?.featureFlag;
            return flag ? featureFlagOn(flag) : true;
          }),
        );
      }
      return stripped;
    });
}

// ErrorListTemplate's formatErrorMessage: the line the page's error list shows.
function errorListLine(error, schema) {
  if (error.property && error.message) {
    const name = error.property.startsWith(".") ? error.property.substring(1) : error.property;
    if (schema.properties && name in schema.properties) {
      const property = schema.properties[name];
      if (typeof property === "object" && "title" in property) {
        return `'${property.title}' ${error.message}`;
      }
    }
    return `'${startCase(name)}' ${error.message}`;
  }
  return error.stack;
}

// rjsf logs, rather than fails, when it cannot use a schema. A condition (`if`) that does not
// compile counts as false, silently. An allOf that json-schema-merge-allof cannot merge is
// dropped: from a question's schema when rendering it (a warning: validation still has it),
// from the page's own schema when validating it (a compile problem: its rules are gone).
const COMPILE_FAILURE = /^Error encountered compiling schema/;
const MERGE_FAILURE = /^could not merge subschemas in allOf/;
function capturingWarnings(action) {
  const warnings = [];
  const original = console.warn;
  console.warn = (...args) =>
    warnings.push(args.map((arg) => String(arg?.message ?? arg)).join(" "));
  try {
    return [action(), warnings];
  } finally {
    console.warn = original;
  }
}

// Whether a page's whole schema (if/then/else and all) compiles under the form's validator
// set-up: a validator of its own, so that nothing ajv kept from another check hides a problem.
const PAGE_COMPILE_ERRORS = new Map();
function compileError(schema) {
  const key = JSON.stringify(schema);
  if (!PAGE_COMPILE_ERRORS.has(key)) {
    try {
      formValidator().ajv.compile(structuredClone(schema));
      PAGE_COMPILE_ERRORS.set(key, null);
    } catch (error) {
      PAGE_COMPILE_ERRORS.set(key, error.message);
    }
  }
  return PAGE_COMPILE_ERRORS.get(key);
}

// A text field the user empties holds undefined (rjsf's emptyValue), never "".
function asTheFormHoldsThem(answers) {
  return Object.fromEntries(
    Object.entries(answers).map(([name, value]) => [name, value === "" ? undefined : value]),
  );
}

// One page as rjsf's Form renders it and then validates it when the user presses Next.
function checkPage(validator, sharedStep, state) {
  const step = structuredClone(sharedStep);
  const page = step.title;
  const compileErrors = [];
  const warnings = [];
  const whole = compileError(step.schema);
  if (whole) compileErrors.push({ page, message: `page schema: ${whole}` });

  // Form.getStateFromProps, on every render: the state's data, the page's schema retrieved
  // (if/then/else resolved, allOf merged) and each question's own (SchemaField).
  const schemaUtils = createSchemaUtils(validator, step.schema, DEFAULT_FORM_STATE_BEHAVIOR);
  const [formData, rendering] = capturingWarnings(() => {
    const data = schemaUtils.getDefaultFormState(step.schema, state);
    const rendered = schemaUtils.retrieveSchema(step.schema, data);
    for (const property of Object.values(rendered.properties ?? {})) {
      schemaUtils.retrieveSchema(property, data);
    }
    return data;
  });
  // Form.onSubmit -> validateFormWithFormData -> validate: the page's schema retrieved for the
  // data, no customValidate and no transformErrors (the Stepper sets neither), its uiSchema.
  const [validation, submitting] = capturingWarnings(() => {
    const retrieved = schemaUtils.retrieveSchema(step.schema, formData);
    return {
      retrieved,
      result: validator.validateFormData(formData, retrieved, undefined, undefined, step.uiSchema),
    };
  });
  const problems = new Set([
    ...rendering.filter((message) => COMPILE_FAILURE.test(message)),
    ...submitting.filter((message) => COMPILE_FAILURE.test(message) || MERGE_FAILURE.test(message)),
  ]);
  for (const message of problems) compileErrors.push({ page, message });
  for (const message of new Set([...rendering, ...submitting])) {
    if (!problems.has(message)) warnings.push({ page, message });
  }
  // The same check once more, for what rjsf drops: the (sub)schema of each error.
  const raw = validator.rawValidation(structuredClone(validation.retrieved), formData);
  if (raw.validationError) {
    compileErrors.push({ page, message: `validated schema: ${raw.validationError.message}` });
  }
  // rjsf's form state replaces an answer it cannot show (a choice not in the list) with the
  // question's default: that answer is never submitted, nor refused.
  const replaced = Object.keys(validation.retrieved.properties ?? {})
    .filter((question) => state[question] !== undefined)
    .filter((question) => JSON.stringify(formData[question]) !== JSON.stringify(state[question]))
    .map((question) => ({
      page,
      question,
      given: state[question],
      submitted: formData[question] ?? null,
    }));
  const rawErrors = raw.errors ?? [];
  const errors = validation.result.errors.map((error, index) => ({
    page,
    question: error.property ? error.property.replace(/^\./, "") : null,
    keyword: error.name ?? null,
    message: errorListLine(error, step.schema),
    fieldMessage: error.name ? error.message : null,
    // processRawValidationErrors keeps ajv's order and appends a compile error last.
    schemaDescription: (error.name && rawErrors[index]?.parentSchema?.description) || null,
  }));
  return { compileErrors, warnings, replaced, errors, formData };
}

// The Stepper's walk: the visible pages in order (scaffolder-common's resolveParameterSteps on
// the pages' schemas as the backend sent them and their `when`, for the state so far), each
// page's form data merged into the state when it is submitted. A real user stops at the
// first page with an error; every visible page is checked here.
function verdict(validator, steps, answers) {
  let state = asTheFormHoldsThem(answers);
  const found = { compileErrors: [], warnings: [], replaced: [], errors: [] };
  const pages = [];
  steps.forEach((step, index) => {
    const { visible } = resolveParameterSteps(
      state,
      steps.map((each) => ({ schema: each.mergedSchema, when: each.when })),
    );
    if (!visible[index]) return;
    pages.push(step.title);
    const { formData, ...checked } = checkPage(validator, step, state);
    for (const key of Object.keys(found)) found[key].push(...checked[key]);
    state = { ...state, ...formData };
  });
  // Any error on a visible page keeps the user from the review step.
  return { refused: found.errors.length > 0, pages, ...found };
}

const [command, ...templatePaths] = process.argv.slice(2);
if (command !== "validate" || templatePaths.length === 0) {
  console.error("usage: form.mjs validate TEMPLATE... < answer-sets.json");
  process.exit(2);
}
const answerSets = JSON.parse(readFileSync(0, "utf8"));
const verdicts = templatePaths.map((file) => {
  const steps = templateSteps(parseYaml(readFileSync(file, "utf8")));
  const validator = formValidator();
  return answerSets.map((answers) => verdict(validator, steps, answers));
});
console.log(JSON.stringify(templatePaths.length === 1 ? verdicts[0] : verdicts));
