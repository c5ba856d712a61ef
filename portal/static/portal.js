// Starts GOV.UK Frontend's components. Every page works without it.
import { initAll } from "./govuk/govuk-frontend.min.js";

initAll();

// A job's page: poll its figures and move the progress bar. Without JavaScript the page
// refreshes itself instead (a meta refresh inside <noscript> while the job runs).
const POLL_MS = 1500;
const TAG_COLOURS = { done: "green", failed: "red", retrying: "yellow", running: "blue" };

function watchJob(box) {
  const url = box.dataset.jobProgress;
  if (!url || box.dataset.jobFinished === "true") return;
  const bar = box.querySelector("progress");
  const field = (name) => box.querySelector(`[data-job-field="${name}"]`);

  async function poll() {
    let figures;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      figures = await response.json();
    } catch (error) {
      window.setTimeout(poll, POLL_MS * 2);
      return;
    }
    bar.value = figures.percent;
    bar.textContent = `${figures.percent}%`;
    field("steps_done").textContent = figures.finished && figures.state === "done" ? figures.steps_total : figures.steps_done;
    field("steps_total").textContent = figures.steps_total;
    field("sentence").textContent = figures.sentence;
    const tag = field("state_label");
    tag.textContent = figures.state_label;
    tag.className = `govuk-tag govuk-tag--${TAG_COLOURS[figures.state] || "grey"}`;
    if (figures.failure) {
      field("failure").textContent = figures.failure;
      box.querySelector("[data-job-failure-box]").classList.remove("portal-hidden");
    }
    if (figures.finished) {
      box.dataset.jobFinished = "true";
      const next = document.querySelector("[data-job-continue]");
      if (next && figures.state === "done") next.classList.remove("portal-hidden");
      return;
    }
    window.setTimeout(poll, POLL_MS);
  }

  window.setTimeout(poll, POLL_MS);
}

document.querySelectorAll("[data-job-progress]").forEach(watchJob);
