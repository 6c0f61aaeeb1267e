//! The configuration's JSON Schema, generated from the Rust types (`schemars`), so an editor or
//! a deployment pipeline can check a file before it reaches a computer. It is committed at
//! [`SCHEMA_PATH`]; `cargo xtask codegen` writes it and a test fails while it is stale.
//! `callsupport config schema` prints it.

use super::Config;

/// Where the committed schema lives, from the repository's root.
pub const SCHEMA_PATH: &str = "schemas/config.schema.json";

/// The schema of a configuration file, pretty-printed, ending in a newline.
pub fn json_schema() -> String {
    let mut schema = schemars::schema_for!(Config);
    schema.insert(
        "$id".into(),
        "https://callsupport.example/schemas/config.schema.json".into(),
    );
    schema.insert("title".into(), "Call Support configuration".into());
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_schema_is_fresh() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(SCHEMA_PATH);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == json_schema(),
            "{SCHEMA_PATH} is stale: run `cargo xtask codegen` and commit the result"
        );
    }

    #[test]
    fn the_schema_knows_every_section_and_refuses_unknown_keys() {
        let schema: serde_json::Value = serde_json::from_str(&json_schema()).unwrap();
        let properties = schema["properties"].as_object().unwrap();
        for section in [
            "ticket_api",
            "sources",
            "presets",
            "collection",
            "privacy",
            "outbox",
            "shortcut",
            "startup",
            "detection",
            "survey",
            "locked",
        ] {
            assert!(properties.contains_key(section), "no `{section}`");
        }
        assert_eq!(schema["required"], serde_json::json!(["ticket_api"]));
        assert_eq!(schema["additionalProperties"], false);
        let kinds = serde_json::to_string(&schema["$defs"]["SourceKind"]).unwrap();
        assert!(
            kinds.contains("call-operations") && !kinds.contains("screenshot"),
            "{kinds}"
        );
    }
}
