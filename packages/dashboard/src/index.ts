export { createDashboard, type DashboardOptions } from './create-dashboard.js';
export { CSRF_COOKIE, CSRF_HEADER, type DashboardAuthorize } from './security.js';
export { pageAssets, type PageAssets } from './page-assets.js';
