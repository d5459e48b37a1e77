import { Component, Type, afterNextRender, signal } from '@angular/core';
import { NgComponentOutlet } from '@angular/common';
import { RouterLink, RouterOutlet } from '@angular/router';
import { APP_VERSION } from './version';

@Component({
  selector: 'app-root',
  imports: [RouterOutlet, RouterLink, NgComponentOutlet],
  templateUrl: './app.html',
  styleUrl: './app.css'
})
export class App {
  protected readonly title = signal('app');
  protected readonly version = APP_VERSION;
  protected readonly lazyComponent = signal<Type<unknown> | null>(null);

  constructor() {
    afterNextRender(() => {
      document.documentElement.setAttribute('data-hydrated', 'true');
    });
  }

  async loadLazy() {
    const { Lazy } = await import('./lazy');
    this.lazyComponent.set(Lazy);
  }
}
