/** One problem found in a document: where (`spec.egress[0].toPorts[0].ports[0].protocol`) and what. */
export interface SchemaIssue {
  readonly path: string;
  readonly message: string;
}

/** Adds an issue at `path`. */
export type Report = (path: string, message: string) => void;

/** A check that runs on an object after its own fields were validated. */
export type ObjectRule = (o: Readonly<Record<string, unknown>>, path: string, report: Report) => void;

/** A check on a string value: returns why it is invalid, or undefined. */
export type StringCheck = (s: string) => string | undefined;

export interface StringNode {
  readonly t: 'string';
  readonly enum?: readonly string[];
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly check?: StringCheck;
}

export interface IntegerNode {
  readonly t: 'integer';
  readonly minimum?: number;
  readonly maximum?: number;
}

export interface BooleanNode {
  readonly t: 'boolean';
}

/** x-kubernetes-int-or-string: an integer or a string, each with its own constraints. */
export interface IntOrStringNode {
  readonly t: 'intOrString';
  readonly int: IntegerNode;
  readonly str: StringNode;
}

export interface ArrayNode {
  readonly t: 'array';
  readonly items: SchemaNode;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly unique?: boolean;
}

/** A struct: every field not listed is an error (structural schemas prune unknown fields). */
export interface ObjectNode {
  readonly t: 'object';
  readonly fields: Readonly<Record<string, SchemaNode>>;
  readonly required?: readonly string[];
  readonly rules?: readonly ObjectRule[];
}

/** additionalProperties: free keys, each value of one type. */
export interface MapNode {
  readonly t: 'map';
  readonly values: SchemaNode;
  readonly key?: StringCheck;
}

/** Accepted as is (status, managedFields): not something we generate or read. */
export interface AnyNode {
  readonly t: 'any';
}

export type SchemaNode = StringNode | IntegerNode | BooleanNode | IntOrStringNode | ArrayNode | ObjectNode | MapNode | AnyNode;
