//! Slint screens under test: the testing backend with a real (software)
//! renderer, a pump that runs the UI until something holds, and PNG
//! screenshots for people to look at.

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Slint's testing backend with the software renderer, for this process:
/// `threads` lets other threads post to the UI (a live app); without, time
/// is mocked (still screens).
pub fn init_slint(threads: bool) {
    use i_slint_backend_testing::{TestingBackend, TestingBackendOptions};
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: !threads,
        threading: threads,
        renderer_name: Some("software".into()),
    })))
    .expect("one Slint platform per process");
}

/// Runs the Slint event loop until `done` holds; false after `timeout`.
pub fn pump_until(timeout: Duration, done: impl Fn() -> bool + 'static) -> bool {
    let deadline = Instant::now() + timeout;
    let ok = std::rc::Rc::new(std::cell::Cell::new(false));
    let flag = ok.clone();
    // The testing backend may run a timer once more after the quit request,
    // before its loop ends; a second request would end the next run at once.
    let quitting = std::rc::Rc::new(std::cell::Cell::new(false));
    let timer = slint::Timer::default();
    timer.start(
        slint::TimerMode::Repeated,
        Duration::from_millis(1),
        move || {
            if quitting.get() {
                return;
            }
            let finished = done();
            if finished || Instant::now() > deadline {
                flag.set(finished);
                quitting.set(true);
                slint::quit_event_loop().unwrap();
            }
        },
    );
    slint::run_event_loop().unwrap();
    ok.get()
}

/// Renders `window` as it is now to target/screenshots/NAME.png; checks it
/// has the window's size and is not one flat colour.
pub fn screenshot(window: &slint::Window, name: &str) -> PathBuf {
    slint::platform::update_timers_and_animations();
    let shot = window.take_snapshot().expect("a rendered frame");
    let size = window.size();
    assert_eq!((shot.width(), shot.height()), (size.width, size.height));
    let pixels = shot.as_bytes();
    assert!(
        pixels.chunks(4).any(|p| p != &pixels[..4]),
        "{name} is one flat colour"
    );
    let path = crate::screenshot_path(name);
    let file = std::fs::File::create(&path).expect("creating the screenshot");
    let mut png = png::Encoder::new(std::io::BufWriter::new(file), shot.width(), shot.height());
    png.set_color(png::ColorType::Rgba);
    png.set_depth(png::BitDepth::Eight);
    png.write_header()
        .and_then(|mut w| w.write_image_data(pixels))
        .expect("writing the screenshot");
    path
}
