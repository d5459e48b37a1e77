import './lazy.css';

export const ready = true;
export const release = '__RELEASE__';

export function isLazyCssApplied() {
  const target = document.querySelector('.lazy-target');
  return getComputedStyle(target).outlineWidth === '3px';
}
