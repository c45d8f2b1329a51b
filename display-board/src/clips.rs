//! The recorded clips of sounds/, decoded once into memory (about 1.5 MB
//! of WAV for both languages), so an announcement starts without disk reads.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::Context;
use rodio::Source;
use serde::Deserialize;

pub struct Clips {
    rate: u32,
    samples: HashMap<String, Vec<f32>>,
}

#[derive(Deserialize)]
struct Manifest {
    clip: BTreeMap<String, toml::Value>,
}

impl Clips {
    /// Loads every clip that `manifest.toml` in `dir` names.
    pub fn load(dir: &Path) -> anyhow::Result<Clips> {
        let manifest_path = dir.join("manifest.toml");
        let manifest: Manifest =
            toml::from_str(&std::fs::read_to_string(&manifest_path).with_context(|| {
                format!(
                    "cannot read {}; give the sounds folder with --sounds",
                    manifest_path.display()
                )
            })?)
            .with_context(|| format!("{} is not a clip manifest", manifest_path.display()))?;
        let mut rate = None;
        let mut samples = HashMap::new();
        for name in manifest.clip.keys() {
            let path = dir.join(format!("{name}.wav"));
            let file = std::fs::File::open(&path).with_context(|| {
                format!(
                    "clip {name} is missing: {}; run sounds/generate",
                    path.display()
                )
            })?;
            let decoder = rodio::Decoder::try_from(file)
                .with_context(|| format!("{} is not a WAV file", path.display()))?;
            let channels = usize::from(decoder.channels().get());
            let clip_rate = decoder.sample_rate().get();
            match rate {
                None => rate = Some(clip_rate),
                Some(r) if r != clip_rate => anyhow::bail!(
                    "{} has {clip_rate} samples/s but the other clips {r}; record or convert all clips at one rate",
                    path.display()
                ),
                _ => {}
            }
            // Mixed down to mono: announcements are speech.
            let all: Vec<f32> = decoder.collect();
            let mono = all
                .chunks(channels)
                .map(|frame| frame.iter().sum::<f32>() / channels as f32)
                .collect();
            samples.insert(name.clone(), mono);
        }
        Ok(Clips {
            rate: rate.context("the manifest names no clips")?,
            samples,
        })
    }

    pub fn rate(&self) -> u32 {
        self.rate
    }

    pub fn get(&self, name: &str) -> anyhow::Result<&[f32]> {
        self.samples
            .get(name)
            .map(Vec::as_slice)
            .with_context(|| format!("no clip named {name} in the manifest"))
    }
}
