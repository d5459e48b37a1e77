import './lazy.css';

export const ready = true;

export function isLazyCssApplied() {
  const target = document.querySelector('.lazy-target');
  return getComputedStyle(target).outlineWidth === '3px';
}
