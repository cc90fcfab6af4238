// Shapes shared by lab/kube's store, registry and HTTP layer.
import type { FieldProblem } from './errors.js';
import type { PrinterColumn } from './table.js';

export type Obj = Record<string, unknown>;

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: unknown[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** A stored object. Stored objects are never mutated: every write stores a new object, so reads share them. */
export interface KObject extends Obj {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
}

export interface VersionSpec {
  name: string;
  served: boolean;
  storage: boolean;
  columns: PrinterColumn[];
  /** CRD versions: the structural schema and its compiled validator. */
  schema?: Obj;
  /** Validates an object (and, for CEL transition rules, its previous version) against the schema. */
  validate?: (obj: unknown, old?: unknown) => FieldProblem[];
}

/** How one resource behaves; built-ins come from builtin.ts, custom resources from their CRD. */
export interface ResourceType {
  group: string;
  /** Served versions, preferred first. */
  versions: VersionSpec[];
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  namespaced: boolean;
  verbs: string[];
  /** Subresource names served besides the main resource: status, log, token, scale, finalize. */
  subresources: string[];
  /** metadata.generation moves with every change outside metadata (and status, when it is a subresource). */
  generation: boolean;
  /** PUT without metadata.resourceVersion is allowed (false for custom resources). */
  unconditionalUpdate: boolean;
  /** Fields offered to field selectors besides metadata.name / metadata.namespace. */
  fields?: (obj: KObject) => Record<string, string>;
  /** Server-side defaulting and normalisation on create/update (Secret stringData, Pod phase...). */
  prepare?: (obj: KObject, old: KObject | undefined) => void;
  /** Built-in validation beyond metadata; returns field problems (422). */
  validate?: (obj: KObject, old: KObject | undefined) => FieldProblem[];
  /** Table cells computed from the object (by column name), where a JSONPath cannot express what kubectl shows. */
  cells?: (obj: KObject) => Record<string, unknown>;
  /** Create-only resources (TokenReview) answer a POST with a computed object and store nothing. */
  virtual?: boolean;
  /** Name of the CRD that defines this resource. */
  crd?: string;
}

export const groupVersion = (group: string, version: string): string => (group ? `${group}/${version}` : version);

/** Store key of a resource: `<group>/<plural>` (the core group is empty). */
export const resourceKey = (t: { group: string; plural: string }): string => `${t.group}/${t.plural}`;
