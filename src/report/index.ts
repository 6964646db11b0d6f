export { gradcheckChartSpec, lossChartSpec, MAX_CURVE_POINTS, SMOOTH_SERIES, throughputChartSpec, VAL_SERIES, type LossChart } from './chart-specs.js';
export { GRADCHECK_FILE, readGradcheck, saveGradcheck, type SavedGradcheck } from './gradcheck-file.js';
export { renderPng, renderSvg } from './render.js';
export { escapeHtml, reportHtml, type ReportContent } from './report-html.js';
export { LOSS_PNG_FILE, LOSS_SVG_FILE, REPORT_FILE, writeReport, type ReportFiles, type ReportOptions } from './write-report.js';
