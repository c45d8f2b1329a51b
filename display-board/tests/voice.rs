//! The announcement as the hall hears it, rendered to WAV (no sound card
//! needed) and taken apart again: the chime first, every clip of each
//! language in order, the pauses silent, the length within bounds; calls
//! that arrive together come out one after the other, never mixed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use display_board::clips::Clips;
use display_board::voice::{
    AFTER_CHIME, Announcer, BETWEEN_CALLS, BETWEEN_LANGUAGES, BETWEEN_WORDS,
};
use hall_api::Lang;

fn sounds() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sounds")
}

/// A clip read straight from its file (hound), not through the board's loader.
fn clip(name: &str) -> Vec<f32> {
    let mut r = hound::WavReader::open(sounds().join(format!("{name}.wav"))).unwrap();
    assert_eq!(r.spec().channels, 1);
    r.samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect()
}

fn silence(d: std::time::Duration) -> usize {
    (d.as_secs_f64() * 22050.0) as usize
}

/// Checks that `wav` holds `clips` in order with the given silent gaps
/// before each (gap 0 for the first), and returns where it ended.
fn expect_sequence(wav: &[f32], mut at: usize, parts: &[(usize, &str)]) -> usize {
    for (gap, name) in parts {
        assert!(
            wav[at..at + gap].iter().all(|s| *s == 0.0),
            "the pause before {name} at sample {at} is not silent"
        );
        at += gap;
        assert!(clip_at(wav, at, name), "{name} is not at sample {at}");
        at += clip(name).len();
    }
    at
}

/// Whether clip `name` starts at sample `at` (16-bit clips compared as floats).
fn clip_at(wav: &[f32], at: usize, name: &str) -> bool {
    let expected = clip(name);
    wav.get(at..at + expected.len())
        .is_some_and(|got| expected.iter().zip(got).all(|(a, b)| (a - b).abs() < 1e-3))
}

fn call_parts(words: &[&str]) -> Vec<(usize, String)> {
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            (
                if i == 0 { 0 } else { silence(BETWEEN_WORDS) },
                w.to_string(),
            )
        })
        .collect()
}

fn expect_call(wav: &[f32], at: usize, zh: &[&str], en: &[&str]) -> usize {
    let at = expect_sequence(wav, at, &[(0, "chime")]);
    let mut parts = call_parts(zh);
    parts[0].0 = silence(AFTER_CHIME);
    let mut english = call_parts(en);
    english[0].0 = silence(BETWEEN_LANGUAGES);
    parts.extend(english);
    let parts: Vec<(usize, &str)> = parts.iter().map(|(g, w)| (*g, w.as_str())).collect();
    expect_sequence(wav, at, &parts)
}

const A012_ZH: [&str; 9] = [
    "zh/please",
    "zh/a",
    "zh/0",
    "zh/1",
    "zh/2",
    "zh/number",
    "zh/to",
    "zh/3",
    "zh/window",
];
const A012_EN: [&str; 7] = [
    "en/ticket",
    "en/a",
    "en/0",
    "en/1",
    "en/2",
    "en/go-to-counter",
    "en/3",
];

#[test]
fn the_announce_command_writes_the_exact_announcement() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("a012.wav");
    let (ok, stdout, stderr) = hall_testkit::run_to_end(
        env!("CARGO_BIN_EXE_display-board").as_ref(),
        &[
            "announce",
            "--ticket",
            "A012",
            "--counter",
            "3",
            "--lang",
            "zh,en",
            "--sounds",
            sounds().to_str().unwrap(),
            "--wav",
            out.to_str().unwrap(),
        ],
    );
    assert!(ok, "{stdout}{stderr}");
    let mut r = hound::WavReader::open(&out).unwrap();
    assert_eq!((r.spec().channels, r.spec().sample_rate), (1, 22050));
    let wav: Vec<f32> = r.samples::<f32>().map(|s| s.unwrap()).collect();

    let end = expect_call(&wav, 0, &A012_ZH, &A012_EN);
    assert_eq!(end, wav.len(), "nothing after the last word");
    let seconds = wav.len() as f64 / 22050.0;
    assert!((5.0..14.0).contains(&seconds), "{seconds:.2} s");

    // English only, the other way round: no chime-less start, no Chinese.
    let (ok, _, stderr) = hall_testkit::run_to_end(
        env!("CARGO_BIN_EXE_display-board").as_ref(),
        &[
            "announce",
            "--ticket",
            "A1",
            "--counter",
            "99",
            "--lang",
            "fr",
            "--wav",
            "x.wav",
        ],
    );
    assert!(!ok && stderr.contains("give zh, en or zh,en"), "{stderr}");
}

#[test]
fn calls_arriving_together_come_out_one_after_the_other() {
    let clips = Arc::new(Clips::load(&sounds()).unwrap());
    let announcer = Arc::new(Announcer::collecting(clips, vec![Lang::Zh, Lang::En]));
    let threads: Vec<_> = [("A012", 3), ("B004", 12)]
        .into_iter()
        .map(|(t, c)| {
            let a = announcer.clone();
            std::thread::spawn(move || a.say(t, c).unwrap())
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // A recall: the same words again.
    announcer.say("A012", 3).unwrap();
    let wav = Arc::into_inner(announcer).unwrap().finish();

    let b004_zh = [
        "zh/please",
        "zh/b",
        "zh/0",
        "zh/0",
        "zh/4",
        "zh/number",
        "zh/to",
        "zh/10",
        "zh/2",
        "zh/window",
    ];
    let b004_en = [
        "en/ticket",
        "en/b",
        "en/0",
        "en/0",
        "en/4",
        "en/go-to-counter",
        "en/1",
        "en/2",
    ];
    let gap = silence(BETWEEN_CALLS);
    // Whichever thread came first, each call is whole and the pause between is silent.
    let first_letter = clip("chime").len()
        + silence(AFTER_CHIME)
        + clip("zh/please").len()
        + silence(BETWEEN_WORDS);
    let first_is_a = clip_at(&wav, first_letter, "zh/a");
    let mut at = if first_is_a {
        let at = expect_call(&wav, 0, &A012_ZH, &A012_EN);
        expect_call(&wav, at + gap, &b004_zh, &b004_en)
    } else {
        let at = expect_call(&wav, 0, &b004_zh, &b004_en);
        expect_call(&wav, at + gap, &A012_ZH, &A012_EN)
    };
    at = expect_call(&wav, at + gap, &A012_ZH, &A012_EN);
    assert_eq!(at, wav.len());
}
