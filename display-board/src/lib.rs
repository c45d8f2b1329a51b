//! The display board: who goes to which counter, on the hall's TV and in
//! its loudspeakers. So far: the voice and the counter LED displays; the
//! board's screen is to come.
//!
//! - [`words`]: which clips say a call, per language (pure).
//! - [`clips`]: the recorded clips of sounds/, decoded into memory.
//! - [`led`]: counter LED displays on serial ports.
//! - [`voice`]: announcements assembled from clips and played one after
//!   another, or rendered to WAV.

pub mod clips;
pub mod led;
pub mod voice;
pub mod words;
slint::include_modules!();
