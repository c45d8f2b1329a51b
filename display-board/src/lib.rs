//! The display board: who goes to which counter, on the hall's TV and in
//! its loudspeakers. The screen is `ui/board.slint`.
//!
//! - [`words`]: which clips say a call, per language (pure).
//! - [`clips`]: the recorded clips of sounds/, decoded into memory.
//! - [`live`]: the board live: snapshot, event stream with resume, screen, voice, LEDs.
//! - [`led`]: counter LED displays on serial ports.
//! - [`voice`]: announcements assembled from clips and played one after
//!   another, or rendered to WAV.

pub mod clips;
pub mod config;
pub mod led;
pub mod live;
pub mod voice;
pub mod words;
slint::include_modules!();
