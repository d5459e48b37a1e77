import { Component } from '@angular/core';
import { APP_VERSION } from './version';

// Loaded only through `await import('./lazy')` in App.loadLazy(), so it gets its own chunk.
@Component({
  selector: 'app-lazy',
  template: `<p id="lazy-result">lazy {{ version }}</p>`,
})
export class Lazy {
  protected readonly version = APP_VERSION;
}
