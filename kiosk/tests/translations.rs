//! Every text the kiosk's screens show through @tr() is in both gettext
//! catalogs, so no customer meets an English word on a Chinese screen.

use std::collections::HashMap;
use std::path::Path;

/// The first string literal of each `@tr(...)`: the msgid.
fn tr_strings(slint: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = slint;
    while let Some(i) = rest.find("@tr(\"") {
        rest = &rest[i + 5..];
        let end = rest.find('"').expect("a closed string after @tr(");
        found.push(rest[..end].to_string());
        rest = &rest[end..];
    }
    found
}

/// msgid → first msgstr, from a .po file (single-line entries).
fn catalog(po: &str) -> HashMap<String, String> {
    let mut map = HashMap::new();
    let mut id = None;
    for line in po.lines() {
        let quoted = |prefix: &str| {
            line.strip_prefix(prefix)
                .map(|s| s.trim().trim_matches('"').to_string())
        };
        if let Some(s) = quoted("msgid ") {
            id = Some(s);
        } else if let Some(s) = quoted("msgstr ").or_else(|| quoted("msgstr[0] "))
            && let Some(id) = id.take()
        {
            map.insert(id, s);
        }
    }
    map
}

#[test]
fn every_screen_text_is_in_both_catalogs() {
    let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui");
    // The window and each of its screens.
    let mut files = vec![ui.join("kiosk.slint")];
    for entry in std::fs::read_dir(ui.join("kiosk")).unwrap() {
        files.push(entry.unwrap().path());
    }
    let texts: Vec<String> = files
        .iter()
        .flat_map(|f| tr_strings(&std::fs::read_to_string(f).unwrap()))
        .collect();
    assert!(texts.len() > 15, "found only {texts:?}");
    for lang in ["zh_CN", "en"] {
        let po =
            std::fs::read_to_string(ui.join(format!("translations/{lang}/LC_MESSAGES/kiosk.po")))
                .unwrap();
        let translated = catalog(&po);
        let missing: Vec<_> = texts
            .iter()
            .filter(|t| translated.get(*t).is_none_or(|s| s.is_empty()))
            .collect();
        assert!(missing.is_empty(), "no {lang} text for {missing:?}");
    }
}
