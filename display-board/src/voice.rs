//! Announcements: the chime, then the words of each language, assembled
//! from the clips into one sound, and played one after another from a
//! queue so that two calls never overlap or cut each other.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use hall_api::Lang;

use crate::clips::Clips;
use crate::words::words;

/// Pause after the chime, between words, and between the languages.
pub const AFTER_CHIME: Duration = Duration::from_millis(300);
pub const BETWEEN_WORDS: Duration = Duration::from_millis(60);
pub const BETWEEN_LANGUAGES: Duration = Duration::from_millis(500);
/// Pause after each announcement before the next one in the queue.
pub const BETWEEN_CALLS: Duration = Duration::from_millis(700);

/// One call as the hall hears it: the chime, then each language in order.
pub fn render(
    clips: &Clips,
    ticket: &str,
    counter: u32,
    langs: &[Lang],
) -> anyhow::Result<Vec<f32>> {
    let silence = |d: Duration| vec![0.0f32; (d.as_secs_f64() * f64::from(clips.rate())) as usize];
    let mut out = clips.get("chime")?.to_vec();
    out.extend(silence(AFTER_CHIME));
    for (i, lang) in langs.iter().enumerate() {
        if i > 0 {
            out.extend(silence(BETWEEN_LANGUAGES));
        }
        for (j, word) in words(ticket, counter, *lang)?.iter().enumerate() {
            if j > 0 {
                out.extend(silence(BETWEEN_WORDS));
            }
            out.extend_from_slice(clips.get(word)?);
        }
    }
    Ok(out)
}

/// Where announcements go.
enum Target {
    /// The default sound device, at this volume (1.0 = as recorded).
    Speaker(f32),
    /// Collected in memory (a WAV file, a test).
    Collect(Arc<Mutex<Vec<f32>>>),
}

/// The announcement queue: `say` returns at once; a worker thread plays
/// one call after another.
pub struct Announcer {
    clips: Arc<Clips>,
    langs: Vec<Lang>,
    queue: Option<mpsc::Sender<Vec<f32>>>,
    worker: Option<JoinHandle<()>>,
    collected: Option<Arc<Mutex<Vec<f32>>>>,
}

impl Announcer {
    /// Plays on the default sound device at `volume` (1.0 = as recorded).
    /// Without one, logs a warning and stays silent: the board keeps working.
    pub fn speaker(clips: Arc<Clips>, langs: Vec<Lang>, volume: f32) -> Announcer {
        Self::start(clips, langs, Target::Speaker(volume))
    }

    /// Collects the announcements instead of playing them; `finish` returns them.
    pub fn collecting(clips: Arc<Clips>, langs: Vec<Lang>) -> Announcer {
        Self::start(clips, langs, Target::Collect(Arc::default()))
    }

    fn start(clips: Arc<Clips>, langs: Vec<Lang>, target: Target) -> Announcer {
        let (tx, rx) = mpsc::channel::<Vec<f32>>();
        let rate = clips.rate();
        let collected = match &target {
            Target::Collect(buf) => Some(buf.clone()),
            Target::Speaker(_) => None,
        };
        let worker = std::thread::Builder::new()
            .name("announcer".into())
            .spawn(move || match target {
                Target::Speaker(volume) => play(rx, rate, volume),
                Target::Collect(buf) => collect(rx, rate, &buf),
            })
            .expect("starting the announcer thread");
        Announcer {
            clips,
            langs,
            queue: Some(tx),
            worker: Some(worker),
            collected,
        }
    }

    /// Queues a call (a recall is the same call again: the same words).
    pub fn say(&self, ticket: &str, counter: u32) -> anyhow::Result<()> {
        let samples = render(&self.clips, ticket, counter, &self.langs)?;
        if let Some(queue) = &self.queue {
            let _ = queue.send(samples);
        }
        Ok(())
    }

    /// Waits until everything queued was played (or collected) and returns
    /// what was collected (empty when playing to a speaker).
    pub fn finish(mut self) -> Vec<f32> {
        self.queue.take();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
        self.collected
            .map(|buf| std::mem::take(&mut *buf.lock().unwrap_or_else(|p| p.into_inner())))
            .unwrap_or_default()
    }

    pub fn rate(&self) -> u32 {
        self.clips.rate()
    }

    /// For a collecting announcer: what it has collected so far (shared).
    pub fn collected(&self) -> Option<Arc<Mutex<Vec<f32>>>> {
        self.collected.clone()
    }
}

/// The speaker's side of the queue. The device is opened on this thread
/// (audio streams stay on the thread that made them).
fn play(queue: mpsc::Receiver<Vec<f32>>, rate: u32, volume: f32) {
    let sink = match rodio::DeviceSinkBuilder::open_default_sink() {
        Ok(sink) => sink,
        Err(e) => {
            tracing::warn!(
                error = %e,
                "no sound device: calls are shown but not announced; check the speaker and ALSA (aplay -l)"
            );
            // Keep taking calls so the board never waits on the voice.
            for _ in queue {}
            return;
        }
    };
    let player = rodio::Player::connect_new(sink.mixer());
    player.set_volume(volume);
    let channels = std::num::NonZero::new(1u16).expect("1 is not zero");
    let Some(rate) = std::num::NonZero::new(rate) else {
        return;
    };
    for samples in queue {
        player.append(rodio::buffer::SamplesBuffer::new(channels, rate, samples));
        // One at a time: the next call waits for this one to end.
        player.sleep_until_end();
        std::thread::sleep(BETWEEN_CALLS);
    }
}

fn collect(queue: mpsc::Receiver<Vec<f32>>, rate: u32, buf: &Mutex<Vec<f32>>) {
    let gap = vec![0.0f32; (BETWEEN_CALLS.as_secs_f64() * f64::from(rate)) as usize];
    for samples in queue {
        let mut buf = buf.lock().unwrap_or_else(|p| p.into_inner());
        if !buf.is_empty() {
            buf.extend_from_slice(&gap);
        }
        buf.extend(samples);
    }
}
