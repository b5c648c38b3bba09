// Explorable figures: each .nl-explorable (written by site/build.py) carries its precomputed grid as JSON.
// Moving a slider shows the figure drawn for the sliders' values, with the widget's readout and message; for a
// setting that does not train, the last figure stays, faded (class nl-stale), and the message says which it shows.
// Training sliders move one at a time from their defaults (that is the grid): moving one resets the others.
(function () {
  "use strict";

  function setUp(root) {
    const data = JSON.parse(root.querySelector(".nl-explore-data").textContent);
    const inputs = Array.from(root.querySelectorAll("input[type=range]"));
    const image = root.querySelector(".nl-explore-figure");
    const message = root.querySelector(".nl-message");
    const slider = (input) => data.sliders.find((s) => s.name === input.dataset.name);
    let shown = null;  // the settings ("label = readout") of the figure on screen

    function readout(input) {
      const text = slider(input).readouts[Number(input.value)];
      input.setAttribute("aria-valuetext", text);
      root.querySelector(`output[for="${input.id}"]`).textContent = text;
      return text;
    }

    function show(moved) {
      const reset = [];
      if (moved && slider(moved).retrain) {
        for (const input of inputs) {
          const s = slider(input);
          if (input !== moved && s.retrain && Number(input.value) !== s.default) {
            input.value = String(s.default);
            reset.push(`${s.label} back to ${s.readouts[s.default]}`);
          }
        }
      }
      const settings = inputs.map((input) => `${slider(input).label} = ${readout(input)}`);
      const figure = data.figures[inputs.map((input) => input.value).join(",")];
      let text = figure ? figure.message : "This setting was not precomputed: run the live panel.";
      if (reset.length) {
        text = (text ? text + " " : "") + `(Precomputed one training slider at a time: ${reset.join(", ")}.)`;
      }
      if (figure && figure.src) {
        image.src = data.base + figure.src;
        image.alt = `${data.describe}, for ${settings.join(", ")}.`;
        image.classList.remove("nl-stale");
        shown = settings;
      } else if (shown) {
        // as the live panel does for a setting that does not train: the last figure stays, faded, and says so
        image.classList.add("nl-stale");
        text += ` The figure shows the last setting that trained: ${shown.join(", ")}.`;
      }
      message.innerHTML = text;
    }

    inputs.forEach((input) => input.addEventListener("input", () => show(input)));
    show(null);
  }

  function start() {
    document.querySelectorAll(".nl-explorable").forEach(setUp);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
