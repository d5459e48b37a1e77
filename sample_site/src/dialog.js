import './dialog.css';

// A second on-demand chunk: what a tab still fetches after it has opened the panel.
export const release = '__RELEASE__';
export const className = 'dialog';
