import './panel.css';

// Loaded only on demand (window.sampleSite.loadLazy('panel')): a part of the app a visitor
// opens long after the page loaded, as a route or a dialog would be.
export const release = '__RELEASE__';
export const className = 'panel';
