// The rating question's buttons, shared by the rater at the counter and
// the ticket's phone page: one button per level (best first) and one
// toggle chip per reason, built from GET /api/v1/public/rating-setup.
// Which levels ask for reasons is the server's rule (`asks_reasons`).
"use strict";

const Rating = {
  // Fills `box` with the levels; `label(choice, button)` writes the text.
  levels(box, setup, label, onChoose) {
    box.innerHTML = "";
    setup.levels.forEach((choice) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = `level ${choice.level}`;
      button.dataset.level = choice.level;
      label(choice, button);
      button.addEventListener("click", () => onChoose(choice));
      box.append(button);
    });
  },

  // Fills `box` with the reasons as chips that toggle their id in `chosen`.
  reasons(box, setup, chosen, label, onToggle) {
    box.innerHTML = "";
    setup.reasons.forEach((reason) => {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.className = "chip";
      chip.dataset.reason = reason.id;
      chip.setAttribute("aria-pressed", String(chosen.has(reason.id)));
      chip.textContent = label(reason);
      chip.addEventListener("click", () => {
        if (chosen.has(reason.id)) chosen.delete(reason.id); else chosen.add(reason.id);
        chip.setAttribute("aria-pressed", String(chosen.has(reason.id)));
        if (onToggle) onToggle();
      });
      box.append(chip);
    });
  },

  // Marks the level chosen (`null`: none).
  pick(levelsBox, level) {
    levelsBox.querySelectorAll(".level").forEach((b) => b.classList.toggle("picked", b.dataset.level === level));
  },
};
