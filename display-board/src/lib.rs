//! The display board: who goes to which counter, on the hall's TV and in
//! its loudspeakers. So far: the voice.
//!
//! - [`words`]: which clips say a call, per language (pure).
//! - [`clips`]: the recorded clips of sounds/, decoded into memory.
//! - [`voice`]: announcements assembled from clips and played one after
//!   another, or rendered to WAV.

pub mod clips;
pub mod voice;
pub mod words;
