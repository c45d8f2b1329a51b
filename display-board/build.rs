//! Compiles the board's Slint screen. It shows both languages at once, so
//! it needs no translation catalogs.

fn main() {
    let config = slint_build::CompilerConfiguration::new().with_debug_info(true);
    slint_build::compile_with_config("../ui/board.slint", config)
        .expect("the board's .slint file compiles (see the error above)");
    println!("cargo:rerun-if-changed=../ui");
}
