import { startServedApp } from './app.js';
import { serverBackend } from './server-backend.js';

startServedApp(document.getElementById('app') as HTMLElement, serverBackend());
