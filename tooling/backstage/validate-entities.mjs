#!/usr/bin/env node
// Validates Backstage catalog files (catalog-info.yaml) as the catalog backend reads them: YAML
// documents parsed with the `yaml` package, then the entity policies the catalog applies to
// every entity (envelope and entity schema, default namespace, no foreign root fields, field
// formats of names, labels, annotations, tags and links), then the validator of the entity's
// kind (a Component's spec: type, lifecycle, owner...). All of it is @backstage/catalog-model,
// except the Software Template's validator, which is @backstage/plugin-scaffolder-common's.
//
// Usage: validate-entities.mjs FILE...
// Exit status: 0 when every entity is valid, 1 when one is not (the reason printed), 2 when no
// entity was found at all.
import { readFileSync } from "node:fs";
import {
  apiEntityV1alpha1Validator,
  componentEntityV1alpha1Validator,
  DefaultNamespaceEntityPolicy,
  domainEntityV1alpha1Validator,
  EntityPolicies,
  FieldFormatEntityPolicy,
  groupEntityV1alpha1Validator,
  locationEntityV1alpha1Validator,
  NoForeignRootFieldsEntityPolicy,
  resourceEntityV1alpha1Validator,
  SchemaValidEntityPolicy,
  systemEntityV1alpha1Validator,
  userEntityV1alpha1Validator,
} from "@backstage/catalog-model";
import { templateEntityV1beta3Validator } from "@backstage/plugin-scaffolder-common";
import { parseAllDocuments } from "yaml";

const policy = EntityPolicies.allOf([
  new SchemaValidEntityPolicy(),
  new DefaultNamespaceEntityPolicy(),
  new NoForeignRootFieldsEntityPolicy(),
  new FieldFormatEntityPolicy(),
]);
const kindValidators = [
  apiEntityV1alpha1Validator,
  componentEntityV1alpha1Validator,
  domainEntityV1alpha1Validator,
  groupEntityV1alpha1Validator,
  locationEntityV1alpha1Validator,
  resourceEntityV1alpha1Validator,
  systemEntityV1alpha1Validator,
  templateEntityV1beta3Validator,
  userEntityV1alpha1Validator,
];

async function validate(data) {
  const entity = await policy.enforce(data);
  const results = await Promise.all(kindValidators.map((validator) => validator.check(entity)));
  if (!results.some(Boolean)) {
    throw new Error(`unknown kind ${entity.apiVersion}/${entity.kind}`);
  }
  return entity;
}

let entities = 0;
let invalid = 0;
for (const path of process.argv.slice(2)) {
  for (const document of parseAllDocuments(readFileSync(path, "utf8"))) {
    if (document.errors.length > 0) {
      console.log(`${path}: invalid YAML: ${document.errors[0].message}`);
      invalid += 1;
      continue;
    }
    const data = document.toJSON();
    if (data === null || data === undefined) {
      continue;
    }
    entities += 1;
    try {
      const entity = await validate(data);
      const { kind, metadata } = entity;
      console.log(`${path}: ${kind}:${metadata.namespace}/${metadata.name}: valid`);
    } catch (error) {
      console.log(`${path}: invalid entity: ${error.message}`);
      invalid += 1;
    }
  }
}
if (entities === 0 && invalid === 0) {
  console.error("backstage-entity-check: no entity found");
  process.exit(2);
}
process.exit(invalid > 0 ? 1 : 0);
