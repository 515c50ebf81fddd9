//! Compiles ui/app.slint with the Spanish (and future) translations bundled
//! and the fonts embedded as files (rendered as vectors at any size and for
//! any character a name or message may hold).

#[cfg(feature = "shell")]
fn main() {
    let config = slint_build::CompilerConfiguration::new()
        .with_bundled_translations("ui/lang")
        // Translations carry no per-component context: one string, one entry.
        .with_default_translation_context(slint_build::DefaultTranslationContext::None)
        .embed_resources(slint_build::EmbedResourcesKind::EmbedFiles);
    // Debug builds (and so the tests) carry the element information that
    // Slint's testing backend needs to find elements by accessible label.
    let config = config.with_debug_info(std::env::var("PROFILE").as_deref() == Ok("debug"));
    slint_build::compile_with_config("ui/app.slint", config).expect("ui/app.slint compiles");
    println!("cargo:rerun-if-changed=ui");
}

/// Without the shell there is no Slint to compile.
#[cfg(not(feature = "shell"))]
fn main() {}
