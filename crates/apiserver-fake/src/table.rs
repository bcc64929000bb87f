//! Server-side printing: `meta.k8s.io/v1` Tables like the ones `kubectl get` asks for.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::list::{Page, list_metadata};
use crate::registry::ResourceType;
use crate::store::Stored;

/// Whether the Accept header asks for a Table.
pub fn wants_table(accept: &str) -> bool {
    accept.split(',').any(|part| part.contains("as=Table") && part.contains("g=meta.k8s.io") && part.contains("v=v1"))
}

/// A column: header, type, format and how to compute the cell.
struct Column {
    name: String,
    kind: String,
    format: String,
    cell: Cell,
}

enum Cell {
    Name,
    Age,
    Path(Vec<String>, Value),
    ReadyOf(&'static str, &'static str),
    Count(&'static str),
}

fn path(p: &str, default: Value) -> Cell {
    Cell::Path(p.trim_start_matches('.').split('.').map(String::from).collect(), default)
}

fn col(name: &str, kind: &str, cell: Cell) -> Column {
    Column { name: name.into(), kind: kind.into(), format: String::new(), cell }
}

fn columns(rt: &ResourceType) -> Vec<Column> {
    let mut cols = vec![Column { name: "Name".into(), kind: "string".into(), format: "name".into(), cell: Cell::Name }];
    if rt.custom && !rt.printer_columns.is_empty() {
        for pc in &rt.printer_columns {
            let kind = pc["type"].as_str().unwrap_or("string").to_string();
            let jp = pc["jsonPath"].as_str().unwrap_or_default();
            let cell =
                if jp == ".metadata.creationTimestamp" && kind == "date" { Cell::Age } else { path(jp, Value::Null) };
            cols.push(Column {
                name: pc["name"].as_str().unwrap_or_default().to_string(),
                kind,
                format: pc["format"].as_str().unwrap_or_default().to_string(),
                cell,
            });
        }
        return cols;
    }
    match (rt.group.as_str(), rt.plural.as_str()) {
        ("apps", "replicasets") => {
            cols.push(col("Desired", "integer", path("spec.replicas", json!(0))));
            cols.push(col("Current", "integer", path("status.replicas", json!(0))));
            cols.push(col("Ready", "integer", path("status.readyReplicas", json!(0))));
        }
        ("apps", "deployments") | ("apps", "statefulsets") => {
            cols.push(col("Ready", "string", Cell::ReadyOf("status.readyReplicas", "spec.replicas")));
            if rt.plural == "deployments" {
                cols.push(col("Up-to-date", "string", path("status.updatedReplicas", json!(0))));
                cols.push(col("Available", "string", path("status.availableReplicas", json!(0))));
            }
        }
        ("", "namespaces") => cols.push(col("Status", "string", path("status.phase", json!("")))),
        ("", "pods") => {
            cols.push(col("Status", "string", path("status.phase", json!("Pending"))));
        }
        ("", "configmaps") => cols.push(col("Data", "integer", Cell::Count("data"))),
        ("", "secrets") => {
            cols.push(col("Type", "string", path("type", json!("Opaque"))));
            cols.push(col("Data", "string", Cell::Count("data")));
        }
        ("", "serviceaccounts") => cols.push(col("Secrets", "integer", Cell::Count("secrets"))),
        _ => {}
    }
    cols.push(col("Age", "string", Cell::Age));
    cols
}

fn lookup<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, seg| cur.get(seg.as_str()))
}

fn compute(cell: &Cell, obj: &Value, now: jiff::Timestamp) -> Value {
    match cell {
        Cell::Name => obj["metadata"]["name"].clone(),
        Cell::Age => json!(age(obj["metadata"]["creationTimestamp"].as_str(), now)),
        Cell::Path(p, default) => match lookup(obj, p) {
            Some(Value::Null) | None => {
                if default.is_null() {
                    json!("<none>")
                } else {
                    default.clone()
                }
            }
            Some(v) => v.clone(),
        },
        Cell::ReadyOf(ready, want) => {
            let get = |p: &str| p.split('.').try_fold(obj, |c, s| c.get(s)).and_then(Value::as_i64).unwrap_or(0);
            json!(format!("{}/{}", get(ready), get(want)))
        }
        Cell::Count(field) => json!(obj.get(*field).map_or(0, |v| match v {
            Value::Object(m) => m.len(),
            Value::Array(a) => a.len(),
            _ => 0,
        })),
    }
}

fn age(created: Option<&str>, now: jiff::Timestamp) -> String {
    match created.and_then(|c| c.parse::<jiff::Timestamp>().ok()) {
        // The server's Table printer writes ages with apimachinery's HumanDuration.
        Some(t) => kubeplug_age::human_duration(now.as_second() - t.as_second()),
        None => "<unknown>".into(),
    }
}

/// Builds the Table of `items` (one row each, with PartialObjectMetadata as the row object).
pub fn table(rt: &ResourceType, items: &[Arc<Stored>], page: Option<&Page>) -> Value {
    let cols = columns(rt);
    let now = jiff::Timestamp::now();
    let definitions: Vec<Value> = cols
        .iter()
        .map(|c| {
            json!({
                "name": c.name, "type": c.kind, "format": c.format,
                "description": column_description(&c.name), "priority": 0
            })
        })
        .collect();
    let rows: Vec<Value> = items
        .iter()
        .map(|item| {
            let cells: Vec<Value> = cols.iter().map(|c| compute(&c.cell, &item.value, now)).collect();
            let mut meta = item.value["metadata"].clone();
            if let Some(m) = meta.as_object_mut() {
                m.remove("managedFields");
            }
            json!({
                "cells": cells,
                "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta}
            })
        })
        .collect();
    let metadata = match page {
        Some(p) => list_metadata(p),
        None => json!({"resourceVersion": items.first().map(|i| i.resource_version()).unwrap_or_default()}),
    };
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": definitions,
        "rows": rows,
    })
}

fn column_description(name: &str) -> &'static str {
    match name {
        "Name" => {
            "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
        }
        "Age" => {
            "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC."
        }
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_accept_header_is_recognised() {
        assert!(wants_table(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
        ));
        assert!(!wants_table("application/json"));
    }
}
