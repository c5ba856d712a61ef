// Draws each chart (templates/_chart.html) with plotly.js, loaded before this module.
// The figure comes from the page as JSON; the table beside it holds the same figures.
// Without JavaScript nothing here runs: the table stays open and the page says so.

const CONFIG = { displayModeBar: false, responsive: true, displaylogo: false, scrollZoom: false };

function part(id, name) {
  return document.querySelector(`[data-${name}="${CSS.escape(id)}"]`);
}

function fail(plot, id) {
  plot.dataset.chartFailed = "true";
  const fallback = part(id, "chart-fallback");
  if (fallback) {
    fallback.textContent = "The chart could not be drawn. Its figures are in the table below.";
    fallback.dataset.chartShown = "true";
  }
  const details = part(id, "chart-details");
  if (details) details.open = true;
}

function zoom(plot, factor) {
  const axis = plot._fullLayout && plot._fullLayout.xaxis;
  if (!axis) return;
  const [start, end] = axis.range;
  const middle = (start + end) / 2;
  const half = ((end - start) / 2) * factor;
  if (half < 0.5) return;
  window.Plotly.relayout(plot, { "xaxis.range": [middle - half, middle + half] });
}

// plotly's own PNG export loads a blob: image, which the content security policy does not
// allow (img-src is 'self' and data: only). So take its SVG (a data: address), draw that
// on a canvas and save the canvas.
async function savePng(plot, id) {
  const width = plot.offsetWidth;
  const height = plot.offsetHeight;
  const svg = await window.Plotly.toImage(plot, { format: "svg", width, height });
  const image = new Image();
  image.src = svg;
  await image.decode();
  const scale = 2;
  const canvas = document.createElement("canvas");
  canvas.width = width * scale;
  canvas.height = height * scale;
  const context = canvas.getContext("2d");
  context.fillStyle = "#ffffff";
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.drawImage(image, 0, 0, canvas.width, canvas.height);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = `chart-${id}.png`;
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

function tools(plot, id) {
  const bar = part(id, "chart-tools");
  if (!bar) return;
  bar.hidden = false;
  bar.addEventListener("click", (event) => {
    const button = event.target.closest("[data-chart-action]");
    if (!button) return;
    const action = button.dataset.chartAction;
    if (action === "image") {
      savePng(plot, id);
    } else if (action === "zoom-in") {
      zoom(plot, 0.5);
    } else if (action === "zoom-out") {
      zoom(plot, 2);
    } else if (action === "reset") {
      window.Plotly.relayout(plot, { "xaxis.autorange": true });
    }
  });
}

// On a phone the legend stacks its entries one to a line and a category axis has little
// room for its labels: give the legend the height it takes from the plot, and show every
// second (or third …) period, as the table beside the chart has them all.
const NARROW = 600;

function fitted(spec, width) {
  if (width >= NARROW) return spec.layout;
  const layout = { ...spec.layout };
  const lines = spec.data.reduce((sum, trace) => sum + (trace.name || "").split("<br>").length, 0);
  if (layout.showlegend && layout.height) layout.height += 22 * Math.max(lines - 1, 0);
  const xaxis = layout.xaxis || {};
  const labels = spec.data.length ? (spec.data[0].x || []).length : 0;
  if (xaxis.type === "category" && labels > 4) {
    layout.xaxis = { ...xaxis, nticks: Math.max(3, Math.floor(width / 90)) };
  }
  return layout;
}

async function draw(plot) {
  const id = plot.dataset.chart;
  const details = part(id, "chart-details");
  if (!window.Plotly) {
    fail(plot, id);
    return;
  }
  // The chart shows the figures now, so the table folds away (one click opens it).
  if (details) details.open = false;
  try {
    const spec = JSON.parse(document.getElementById(`chart-${id}-spec`).textContent);
    await window.Plotly.newPlot(plot, spec.data, fitted(spec, plot.clientWidth), CONFIG);
    plot.dataset.chartDrawn = "true";
    tools(plot, id);
  } catch (error) {
    fail(plot, id);
    throw error;
  }
}

document.querySelectorAll("[data-chart]").forEach((plot) => {
  draw(plot);
});
