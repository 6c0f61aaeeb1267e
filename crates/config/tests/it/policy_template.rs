//! The committed Group Policy template as an XML parser we did not write reads it: well-formed,
//! every policy under the key the app reads, every string and presentation it names defined.

use callsupport_config::admx::{ADML_PATH, ADMX_PATH};
use callsupport_config::policy::{POLICY_KEY, policy_keys};

const SCRIPT: &str = r#"
import json, sys, xml.etree.ElementTree as ET
ns = {"p": "http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions"}
admx = ET.parse(sys.argv[1]).getroot()
adml = ET.parse(sys.argv[2]).getroot()
strings = {s.get("id") for s in adml.iterfind(".//p:stringTable/p:string", ns)}
presentations = {p.get("id") for p in adml.iterfind(".//p:presentationTable/p:presentation", ns)}
policies = []
for policy in admx.iterfind(".//p:policies/p:policy", ns):
    names = [e.get("valueName") for e in policy.iter() if e.get("valueName")]
    policies.append({"key": policy.get("key"), "values": names, "class": policy.get("class")})
missing = []
for element in admx.iter():
    for value in element.attrib.values():
        if value.startswith("$(") and value.endswith(")"):
            table, ident = value[2:-1].split(".", 1)
            if ident not in (strings if table == "string" else presentations):
                missing.append(value)
print(json.dumps({"policies": policies, "missing": missing}))
"#;

#[test]
fn the_template_parses_and_every_policy_writes_where_the_app_reads() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = callsupport_outside_tools::run(
        "python3",
        &[
            "-c",
            SCRIPT,
            root.join(ADMX_PATH).to_str().unwrap(),
            root.join(ADML_PATH).to_str().unwrap(),
        ],
    );
    let found: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(found["missing"], serde_json::json!([]));
    let policies = found["policies"].as_array().unwrap();
    assert_eq!(policies.len(), policy_keys().count());
    for ((key, _), policy) in policy_keys().zip(policies) {
        let (section, name) = key.split_once('.').unwrap();
        assert_eq!(
            policy["key"].as_str(),
            Some(format!("{POLICY_KEY}\\{section}").as_str()),
            "{key}"
        );
        assert_eq!(policy["values"], serde_json::json!([name]), "{key}");
        assert_eq!(policy["class"], "Both", "{key}");
    }
}
