//! The OpenAPI 3.1 document, generated: the paths from the route list in `mod.rs` (the same
//! list registers the handlers), the schemas derived with `schemars` from the types the
//! handlers send (`app` views, `responses.rs`) and read (`requests.rs`, and the event types
//! themselves, `domain::events::EventData`). Nothing here describes a field by hand.
//!
//! Two generators: answers are described as serialised (a field skipped when empty is not
//! required), requests as deserialised (an optional field may be left out or null).

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{json, Map, Value};

use crate::domain::events::{EventData, EventType, RECORDED_BY_SERVICE};
use crate::domain::input::{
    FILLED_NAME_PATTERN, FILLED_TEXT_PATTERN, NAME_FIELDS, NAME_PATTERN, TEXT_PATTERN,
};

/// Builds the document's schemas while the operations are described.
pub struct Doc {
    out: SchemaGenerator,
    inp: SchemaGenerator,
    /// Request schemas assembled here (the event body).
    extra: Map<String, Value>,
}

impl Default for Doc {
    fn default() -> Self {
        Self::new()
    }
}

fn settings() -> SchemaSettings {
    SchemaSettings::draft2020_12().with(|s| {
        s.definitions_path = "/components/schemas".into();
        s.meta_schema = None;
    })
}

impl Doc {
    pub fn new() -> Doc {
        Doc {
            out: settings().for_serialize().into_generator(),
            inp: settings().for_deserialize().into_generator(),
            extra: Map::new(),
        }
    }

    /// The schema of an answer of type `T` (a `$ref` for a named type).
    pub fn out<T: JsonSchema>(&mut self) -> Value {
        self.out.subschema_for::<T>().to_value()
    }

    /// An array of `T`.
    pub fn list<T: JsonSchema>(&mut self) -> Value {
        json!({ "type": "array", "items": self.out::<T>() })
    }

    /// A JSON request body of type `T`.
    pub fn body<T: JsonSchema>(&mut self) -> Value {
        let schema = self.inp.subschema_for::<T>().to_value();
        json!({ "required": true, "content": { "application/json": { "schema": schema } } })
    }

    /// A multipart/form-data body of type `T` (a file field has `format: binary`).
    pub fn multipart<T: JsonSchema>(&mut self) -> Value {
        let schema = self.inp.subschema_for::<T>().to_value();
        json!({ "required": true, "content": { "multipart/form-data": { "schema": schema } } })
    }

    /// The body that records an event: one schema per type a person may record, a `oneOf`
    /// keyed on `type`, each with `occurred_on` and the type's own fields (those the service
    /// fills in left out), from [`EventData`] itself.
    pub fn event_body(&mut self) -> Value {
        if !self.extra.contains_key("NewEvent") {
            let (schema, variants) = new_event_schema(&mut self.inp);
            self.extra.extend(variants);
            self.extra.insert("NewEvent".into(), schema);
        }
        json!({ "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/NewEvent" } } } })
    }

    /// The query parameters: the properties of `T`, each optional unless `T` requires it.
    pub fn query<T: JsonSchema>(&mut self) -> Vec<Value> {
        let schema = T::json_schema(&mut self.inp).to_value();
        let required: Vec<&str> = schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut params = vec![];
        if let Some(props) = schema["properties"].as_object() {
            for (name, prop) in props {
                let mut prop = prop.clone();
                let description = prop
                    .as_object_mut()
                    .and_then(|p| p.remove("description"))
                    .unwrap_or(Value::Null);
                let is_required = required.contains(&name.as_str());
                let mut schema = non_null(prop);
                if !is_required {
                    // A blank parameter is read as an absent one (forms send `stage=`; every
                    // value is trimmed): blank is the whitespace `str::trim` removes that
                    // `check_text` lets through.
                    schema = json!({ "anyOf": [schema, { "type": "string", "pattern": BLANK_PATTERN }] });
                }
                let mut p = json!({
                    "name": name, "in": "query", "required": is_required, "schema": schema,
                });
                if !description.is_null() {
                    p["description"] = description;
                }
                params.push(p);
            }
        }
        params
    }

    /// The document's schemas.
    pub fn schemas(mut self) -> Map<String, Value> {
        let mut all = self.out.take_definitions(true);
        let mut requests = self.inp.take_definitions(true);
        requests.extend(std::mem::take(&mut self.extra));
        for (name, schema) in requests.iter_mut() {
            if !all.contains_key(name) {
                text_patterns(schema);
            }
        }
        for (name, schema) in requests {
            match all.get(&name) {
                None => {
                    all.insert(name, schema);
                }
                // An enum reads as it is written; any other type is either read or written.
                Some(same) if *same == schema => {}
                Some(_) => panic!("{name}: a request and an answer type share the name"),
            }
        }
        all
    }
}

/// A blank query parameter: spaces, tabs and line breaks (`\r` only before `\n`), and the other
/// characters Rust's `char::is_whitespace` names that are not control characters.
const BLANK_PATTERN: &str =
    r"^(?:[\t\n \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]|\r\n)*$";

/// A query parameter's schema: an absent parameter is how a value is left out, so never null.
fn non_null(mut prop: Value) -> Value {
    if let Some(types) = prop["type"].as_array() {
        let types: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        prop["type"] = if types.len() == 1 {
            types[0].clone()
        } else {
            Value::Array(types)
        };
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(alts) = prop[key].as_array() {
            let alts: Vec<Value> = alts
                .iter()
                .filter(|a| a["type"] != "null")
                .cloned()
                .collect();
            if alts.len() == 1 {
                let mut only = alts[0].clone();
                if let (Some(o), Some(p)) = (only.as_object_mut(), prop.as_object()) {
                    for (k, v) in p {
                        if k != key {
                            o.insert(k.clone(), v.clone());
                        }
                    }
                }
                return only;
            }
        }
    }
    prop
}

/// Every text field of a request is read the same way (`domain::input::Fields`): trimmed, no
/// control characters (no direction overrides in a name), and blank is missing. Stated on each
/// free-text property (a string with a `maxLength` and no other constraint of its own).
fn text_patterns(schema: &mut Value) {
    let required: Vec<String> = schema["required"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        for (name, prop) in props.iter_mut() {
            let is_text = match &prop["type"] {
                Value::String(t) => t == "string",
                Value::Array(ts) => ts.iter().any(|t| t == "string"),
                _ => false,
            };
            let free = prop.get("maxLength").is_some()
                && prop.get("pattern").is_none()
                && prop.get("format").is_none()
                && prop.get("enum").is_none();
            if is_text && free {
                let name_field = NAME_FIELDS.contains(&name.as_str());
                let pattern = match (required.contains(name), name_field) {
                    (true, true) => FILLED_NAME_PATTERN,
                    (true, false) => FILLED_TEXT_PATTERN,
                    (false, true) => NAME_PATTERN,
                    (false, false) => TEXT_PATTERN,
                };
                prop["pattern"] = json!(pattern);
            }
        }
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(alts) = schema.get_mut(key).and_then(Value::as_array_mut) {
            for alt in alts {
                text_patterns(alt);
            }
        }
    }
}

/// `NewEvent`: [`EventData`]'s schema less the types the service records and the fields it
/// fills in (`readOnly`), with `occurred_on` in each and nothing else accepted; each type its
/// own schema (`NewEvent_<type>`).
fn new_event_schema(gen: &mut SchemaGenerator) -> (Value, Map<String, Value>) {
    let occurred_on = gen.subschema_for::<chrono::NaiveDate>().to_value();
    let data = EventData::json_schema(gen).to_value();
    let mut refs = vec![];
    let mut variants = Map::new();
    let mut mapping = Map::new();
    for variant in data["oneOf"].as_array().cloned().unwrap_or_default() {
        let Some(code) = variant["properties"]["type"]["const"].as_str() else {
            continue;
        };
        let Ok(kind) = code.parse::<EventType>() else {
            continue;
        };
        if RECORDED_BY_SERVICE.contains(&kind) {
            continue;
        }
        let mut v = variant.clone();
        let read_only: Vec<String> = v["properties"]
            .as_object()
            .map(|p| {
                p.iter()
                    .filter(|(_, s)| s["readOnly"] == true)
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default();
        if let Some(props) = v["properties"].as_object_mut() {
            for k in &read_only {
                props.remove(k);
            }
            props.insert("type".into(), json!({ "type": "string", "const": code }));
            props.insert(
                "occurred_on".into(),
                json!({ "allOf": [occurred_on.clone()], "description": "The day it happened (from 1 January 2000 to today)" }),
            );
        }
        let mut required: Vec<Value> = v["required"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|r| !read_only.iter().any(|k| r == k))
            .collect();
        required.push(json!("occurred_on"));
        if kind == EventType::PrepubCopySent {
            copies_in_one(&mut v, &mut required);
        }
        v["required"] = Value::Array(required);
        v["additionalProperties"] = json!(false);
        v["title"] = json!(kind.label());
        let name = format!("NewEvent_{code}");
        let reference = format!("#/components/schemas/{name}");
        mapping.insert(code.into(), json!(reference));
        refs.push(json!({ "$ref": reference }));
        variants.insert(name, v);
    }
    let schema = json!({
        "description": "One event: `type` says which, and which fields it takes",
        "oneOf": refs,
        "discriminator": { "propertyName": "type", "mapping": mapping },
    });
    (schema, variants)
}

/// `prepub_copy_sent` takes one `recipient` or a list of them, `recipients`, recorded as one
/// copy each in one transaction (`events::expand_recipients`): exactly one of the two.
fn copies_in_one(v: &mut Value, required: &mut Vec<Value>) {
    let one = v["properties"]["recipient"].clone();
    required.retain(|r| r != "recipient");
    if let Some(props) = v["properties"].as_object_mut() {
        props.insert(
            "recipients".into(),
            json!({
                "description": "Several recipients sent the copy together; one event each",
                "type": "array",
                "items": one,
                "minItems": 1,
            }),
        );
    }
    v["oneOf"] = json!([{ "required": ["recipient"] }, { "required": ["recipients"] }]);
}

/// The errors an operation can answer, each with the error body.
pub fn errors(codes: &[u16]) -> Map<String, Value> {
    let mut m = Map::new();
    for code in codes {
        let description = match code {
            400 => "A parameter or the body cannot be read; `error.field` names it",
            401 => "No valid bearer token (or, signing in, wrong credentials or a missing code)",
            403 => "The role may not do this, or two-step verification must be set up first (`mfa_enrolment_required`)",
            404 => "Not found, or not visible to this user",
            405 => "The path does not take this method; `Allow` names the ones it does",
            409 => "Conflicts with the current state",
            413 => "The upload is larger than documents.max_bytes, or the JSON body larger than 1 MiB",
            415 => "The file type is not accepted (decided by content); the message lists the accepted types",
            422 => "Refused: `error.fields` lists each field and the problem",
            429 => "Too many failed attempts; see Retry-After",
            503 => "The database is not answering; try again after Retry-After seconds",
            507 => "The document store is full; nothing was saved",
            _ => "Error",
        };
        m.insert(
            code.to_string(),
            json!({ "description": description, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } } }),
        );
    }
    m
}

/// A JSON answer.
pub fn ok(code: u16, description: &str, schema: Value) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        code.to_string(),
        json!({ "description": description, "content": { "application/json": { "schema": schema } } }),
    );
    m
}

/// An answer without a body.
pub fn empty(code: u16, description: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(code.to_string(), json!({ "description": description }));
    m
}

/// JSON, or with `format=csv|xlsx` the same as a file.
pub fn ok_or_file(description: &str, schema: Value) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "200".into(),
        json!({ "description": description, "content": {
            "application/json": { "schema": schema },
            "text/csv": { "schema": { "type": "string", "description": "RFC 4180, UTF-8, a header row" } },
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": { "schema": { "type": "string", "format": "binary" } },
        } }),
    );
    m
}

/// A file's bytes.
pub fn file(description: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "200".into(),
        json!({ "description": description, "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" } }, "*/*": { "schema": { "type": "string", "format": "binary" } } } }),
    );
    m
}

/// Path parameters, each a string (an id) unless given.
pub fn path(names: &[&str]) -> Vec<Value> {
    names
        .iter()
        .map(|n| {
            let schema = match *n {
                "n" => json!({ "type": "integer", "minimum": 1, "maximum": i32::MAX }),
                "body" => json!({ "type": "string", "enum": ["subgroup", "board"] }),
                _ => json!({ "type": "string", "minLength": 1, "maxLength": 200 }),
            };
            json!({ "name": n, "in": "path", "required": true, "schema": schema })
        })
        .collect()
}
