//! Compiles the kiosk's Slint screens, with the gettext catalogs of
//! `ui/translations` bundled into the binary.

fn main() {
    let config = slint_build::CompilerConfiguration::new()
        .with_bundled_translations("../ui/translations")
        .with_default_translation_context(slint_build::DefaultTranslationContext::None)
        // Element names for the behaviour tests and the bench, which find the
        // buttons a customer touches by their accessible labels.
        .with_debug_info(true);
    slint_build::compile_with_config("../ui/kiosk.slint", config)
        .expect("the kiosk's .slint files compile (see the error above)");
    println!("cargo:rerun-if-changed=../ui");
}
