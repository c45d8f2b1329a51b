//! Which clips say a call, in which order, per language. Pure: the board,
//! the WAV renderer and the tests all ask here.
//!
//! Chinese: 请 A 零 一 二 号 到 三 号窗口 — the ticket digit by digit, the
//! counter as a number (十二 for 12). English: Ticket A zero one two, please
//! go to counter one two — digit by digit, which needs no clips for teens.

use hall_api::Lang;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WordsError {
    #[error("ticket \"{0}\" is not a ticket number; give one or two letters and digits, e.g. A012")]
    Ticket(String),
    #[error("counter {0} is out of range; counters are numbered 1 to 999")]
    Counter(u32),
}

/// The clip names (files under sounds/, without `.wav`) for one language.
pub fn words(ticket: &str, counter: u32, lang: Lang) -> Result<Vec<String>, WordsError> {
    let split = ticket
        .find(|c: char| c.is_ascii_digit())
        .filter(|&i| (1..=2).contains(&i));
    let (letters, digits) = match split {
        Some(i) => ticket.split_at(i),
        None => return Err(WordsError::Ticket(ticket.into())),
    };
    if !letters.chars().all(|c| c.is_ascii_alphabetic())
        || digits.is_empty()
        || digits.len() > 6
        || !digits.chars().all(|c| c.is_ascii_digit())
    {
        return Err(WordsError::Ticket(ticket.into()));
    }
    if !(1..=999).contains(&counter) {
        return Err(WordsError::Counter(counter));
    }
    let l = lang.as_str();
    let clip = |w: &str| format!("{l}/{w}");
    let spelled = letters
        .chars()
        .map(|c| clip(&c.to_ascii_lowercase().to_string()))
        .chain(digits.chars().map(|d| clip(&d.to_string())));
    Ok(match lang {
        Lang::Zh => std::iter::once(clip("please"))
            .chain(spelled)
            .chain([clip("number"), clip("to")])
            .chain(chinese_number(counter).into_iter().map(|w| clip(&w)))
            .chain([clip("window")])
            .collect(),
        Lang::En => std::iter::once(clip("ticket"))
            .chain(spelled)
            .chain([clip("go-to-counter")])
            .chain(counter.to_string().chars().map(|d| clip(&d.to_string())))
            .collect(),
    })
}

/// How a counter number is read in Chinese, as clip words: 3 → 三,
/// 10 → 十, 12 → 十二, 20 → 二十, 35 → 三十五; from 100 digit by digit.
fn chinese_number(n: u32) -> Vec<String> {
    let d = |x: u32| x.to_string();
    match n {
        0..=9 => vec![d(n)],
        10 => vec!["10".into()],
        11..=19 => vec!["10".into(), d(n % 10)],
        20..=99 if n.is_multiple_of(10) => vec![d(n / 10), "10".into()],
        20..=99 => vec![d(n / 10), "10".into(), d(n % 10)],
        _ => n.to_string().chars().map(|c| c.to_string()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(ticket: &str, counter: u32, lang: Lang) -> String {
        words(ticket, counter, lang).unwrap().join(" ")
    }

    #[test]
    fn chinese_reads_the_ticket_digit_by_digit_and_the_counter_as_a_number() {
        assert_eq!(
            said("A012", 3, Lang::Zh),
            "zh/please zh/a zh/0 zh/1 zh/2 zh/number zh/to zh/3 zh/window"
        );
        let counter = |n| {
            let w = words("A1", n, Lang::Zh).unwrap();
            // 请 A 一 号 到 … 号窗口
            w[5..w.len() - 1].join(" ")
        };
        assert_eq!(counter(10), "zh/10");
        assert_eq!(counter(12), "zh/10 zh/2");
        assert_eq!(counter(20), "zh/2 zh/10");
        assert_eq!(counter(35), "zh/3 zh/10 zh/5");
        assert_eq!(counter(105), "zh/1 zh/0 zh/5");
    }

    #[test]
    fn english_reads_digits() {
        assert_eq!(
            said("VA007", 12, Lang::En),
            "en/ticket en/v en/a en/0 en/0 en/7 en/go-to-counter en/1 en/2"
        );
    }

    #[test]
    fn bad_calls_say_what_to_give() {
        for bad in ["", "012", "ABC1", "A", "A01B", "A1234567", "Ä1"] {
            assert!(
                matches!(words(bad, 1, Lang::Zh), Err(WordsError::Ticket(_))),
                "{bad}"
            );
        }
        assert_eq!(words("A1", 0, Lang::En), Err(WordsError::Counter(0)));
    }
}
