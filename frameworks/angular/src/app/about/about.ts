import { Component } from '@angular/core';
import { RouterLink } from '@angular/router';

// Lazily loaded route component (loadComponent in app.routes.ts).
@Component({
  selector: 'app-about',
  imports: [RouterLink],
  template: `
    <section id="about-page">
      <h2>About</h2>
      <p>This page is a lazily loaded route.</p>
      <a routerLink="/">Home</a>
    </section>
  `,
})
export class About {}
