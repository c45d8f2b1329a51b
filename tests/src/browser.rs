//! A real browser for the web pages' tests: Debian's chromium, headless,
//! driven over WebDriver by chromedriver, through fantoccini.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

use crate::free_port;

/// How long a page gets to show what a test waits for.
pub const PATIENCE: Duration = Duration::from_secs(10);

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless chromium at the given window size,
    /// in English unless `lang` says otherwise.
    pub async fn start(width: u32, height: u32, lang: &str) -> Browser {
        Self::launch(width, height, lang, None).await
    }

    /// The same, with `ca` (a PEM certificate) installed as a trusted CA in
    /// the browser's certificate store, as staff install the hall CA
    /// (`certutil` into the NSS database Chromium reads on Linux).
    pub async fn start_trusting(width: u32, height: u32, lang: &str, ca: &Path) -> Browser {
        Self::launch(width, height, lang, Some(ca)).await
    }

    async fn launch(width: u32, height: u32, lang: &str, ca: Option<&Path>) -> Browser {
        for (bin, package) in [
            ("/usr/bin/chromium", "chromium"),
            ("/usr/bin/chromedriver", "chromium-driver"),
        ] {
            assert!(
                std::path::Path::new(bin).exists(),
                "{bin} is missing: apt-get install {package} (scripts/test installs it)"
            );
        }
        let port = free_port();
        let profile = tempfile::tempdir().expect("a browser profile directory");
        let mut driver = Command::new("/usr/bin/chromedriver");
        if let Some(ca) = ca {
            // Chromium on Linux trusts what ~/.pki/nssdb holds: a home of its own.
            let home = profile.path().join("home");
            let db = home.join(".pki/nssdb");
            std::fs::create_dir_all(&db).expect("an NSS database folder");
            let certutil = |args: &[&str]| {
                let out = Command::new("certutil")
                    .args(args)
                    .output()
                    .expect("certutil (apt-get install libnss3-tools; scripts/setup installs it)");
                assert!(
                    out.status.success(),
                    "certutil {args:?}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            };
            let db_arg = format!("sql:{}", db.display());
            certutil(&["-N", "-d", &db_arg, "--empty-password"]);
            certutil(&[
                "-A",
                "-d",
                &db_arg,
                "-t",
                "C,,",
                "-n",
                "hall CA",
                "-i",
                ca.to_str().expect("a UTF-8 path"),
            ]);
            driver.env("HOME", &home);
        }
        let driver = driver
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting chromedriver");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-quic", "--no-first-run", "--hide-scrollbars", "--force-device-scale-factor=1",
                    format!("--lang={lang}"), format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ],
                "prefs": { "intl.accept_languages": lang }
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        // Connect only once chromedriver listens: a refused first try
        // leaves fantoccini's session task waiting.
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let client = loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) => {
                    assert!(
                        Instant::now() < deadline,
                        "no WebDriver session within 20 s: {e}"
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        let browser = Browser {
            client,
            driver,
            _profile: profile,
        };
        browser.set_viewport(width, height).await;
        browser
    }

    /// Makes the page's viewport exactly `width` × `height`: the window
    /// size chromium is given includes its own frame (a 1024×600 window
    /// shows a 1024×457 page), so the window is grown by the difference.
    pub async fn set_viewport(&self, width: u32, height: u32) {
        let (mut w, mut h) = (width, height);
        for _ in 0..3 {
            self.client
                .set_window_size(w, h)
                .await
                .expect("sizing the window");
            let (iw, ih) = self.viewport().await;
            if (iw, ih) == (width, height) {
                return;
            }
            let grow = |outer: u32, want: u32, got: u32| {
                (i64::from(outer) + i64::from(want) - i64::from(got)).max(1) as u32
            };
            (w, h) = (grow(w, width, iw), grow(h, height, ih));
        }
        assert_eq!(
            self.viewport().await,
            (width, height),
            "the viewport did not take the size asked"
        );
    }

    /// The page's viewport: `innerWidth` × `innerHeight`.
    pub async fn viewport(&self) -> (u32, u32) {
        let v = self
            .client
            .execute("return [window.innerWidth, window.innerHeight];", vec![])
            .await
            .expect("reading the viewport");
        let n = |i: usize| v[i].as_u64().expect("a viewport size") as u32;
        (n(0), n(1))
    }

    /// Ends the WebDriver session (closing the browser) and chromedriver.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    /// Opens `url` whatever comes of it (a refused certificate, say).
    pub async fn goto_raw(&self, url: &str) {
        let _ = self.client.goto(url).await;
    }

    /// Every element matching `css` now (none is no error).
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_default()
    }

    pub async fn find(&self, css: &str) -> Element {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// Clicks `css` once it is there, as a person waits for a page to show
    /// a button; a page that redraws the button meanwhile (a stale
    /// element) is clicked again on its new one.
    pub async fn click(&self, css: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let outcome = match self.client.find(Locator::Css(css)).await {
                Ok(el) => el.click().await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match outcome {
                Ok(()) => return,
                Err(e) if std::time::Instant::now() >= deadline => {
                    panic!("cannot click {css} within 10 s: {e}")
                }
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        }
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        el.clear().await.unwrap();
        el.send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("cannot type into {css}: {e}"));
    }

    /// Presses one key on the page, as a person at the keyboard does.
    /// Sets a date or time input's value, as its picker would (typing into
    /// one depends on the browser's locale).
    pub async fn pick(&self, css: &str, value: &str) {
        self.wait_for(css).await;
        self.client
            .execute(
                "const el = document.querySelector(arguments[0]); el.value = arguments[1]; \
                 el.dispatchEvent(new Event('input', { bubbles: true }));",
                vec![serde_json::json!(css), serde_json::json!(value)],
            )
            .await
            .unwrap_or_else(|e| panic!("cannot set {css}: {e}"));
    }

    pub async fn press(&self, key: char) {
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        self.client
            .perform_actions(keys)
            .await
            .expect("pressing a key");
    }

    /// The text of the first element matching `css`, or "" when there is none.
    pub async fn text(&self, css: &str) -> String {
        match self.client.find(Locator::Css(css)).await {
            Ok(el) => el.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Waits until the text of `css` satisfies `ok`, and returns it.
    pub async fn wait_text(&self, css: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let text = self.text(css).await;
            if ok(&text) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "{css} never showed {what}; it shows {text:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the attribute `attr` of the element matching `css` is
    /// `want` (an absent attribute reads as "").
    pub async fn wait_attr(&self, css: &str, attr: &str, want: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let shown = self
                .find(css)
                .await
                .attr(attr)
                .await
                .unwrap_or_else(|e| panic!("cannot read {attr} of {css}: {e}"))
                .unwrap_or_default();
            if shown == want {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{css} has {attr}={shown:?}, expected {want:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until an element matching `css` exists.
    pub async fn wait_for(&self, css: &str) -> Element {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                return el;
            }
            assert!(Instant::now() < deadline, "{css} never appeared");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Prints the page as Chromium prints it (A4 portrait), saves the PDF
    /// under target/screenshots/ and its first page as NAME.png (pdftoppm)
    /// to look at; returns the PDF.
    pub async fn print_to_png(&self, name: &str) -> Vec<u8> {
        let pdf = self
            .client
            .print(
                fantoccini::wd::PrintConfiguration::builder()
                    .build()
                    .expect("the default print settings"),
            )
            .await
            .expect("the page printed");
        assert!(pdf.starts_with(b"%PDF"), "Chromium printed a PDF");
        let png = crate::screenshot_path(name);
        let pdf_path = png.with_extension("pdf");
        std::fs::write(&pdf_path, &pdf).expect("writing the PDF");
        let status = Command::new("pdftoppm")
            .args(["-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile"])
            .arg(&pdf_path)
            .arg(png.with_extension(""))
            .status()
            .expect("pdftoppm (apt-get install poppler-utils; scripts/setup installs it)");
        assert!(
            status.success() && png.exists(),
            "pdftoppm made {}",
            png.display()
        );
        pdf
    }

    /// The texts of the QR codes the element `css` shows, read back from
    /// its picture as a phone's camera would.
    pub async fn qr_codes(&self, css: &str) -> Vec<String> {
        let shot = self
            .find(css)
            .await
            .screenshot()
            .await
            .expect("a picture of the element");
        let mut reader = png::Decoder::new(std::io::Cursor::new(shot))
            .read_info()
            .expect("the element's picture is a PNG");
        let mut pixels = vec![0; reader.output_buffer_size().expect("a sized picture")];
        let info = reader
            .next_frame(&mut pixels)
            .expect("the picture's pixels");
        let channels = info.color_type.samples();
        let (w, h) = (info.width as usize, info.height as usize);
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
            let at = (y * w + x) * channels;
            // The first three channels averaged: enough to tell black from white.
            let rgb = &pixels[at..at + channels.min(3)];
            (rgb.iter().map(|&v| u32::from(v)).sum::<u32>() / rgb.len() as u32) as u8
        });
        image
            .detect_grids()
            .into_iter()
            .filter_map(|grid| grid.decode().ok().map(|(_, text)| text))
            .collect()
    }

    /// Saves what the page shows now as PNG under target/screenshots/.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("a screenshot");
        // The picture must be what a screen of the viewport's size shows.
        let size = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
        let (pw, ph) = (size(16), size(20));
        assert_eq!(
            (pw, ph),
            self.viewport().await,
            "screenshot {name} is not the viewport's size"
        );
        let path = crate::screenshot_path(name);
        std::fs::write(&path, png).expect("writing the screenshot");
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        // The browsers chromedriver started outlive it: they are the
        // processes that name this test's own profile directory.
        let _ = Command::new("pkill")
            .arg("-KILL")
            .arg("-f")
            .arg(self._profile.path())
            .status();
    }
}
