// Registers <file-uploader> before Vue mounts it, so Vue sees its properties.
import '@file-uploader/element/define';
import { createApp } from 'vue';
import App from './app.vue';

createApp(App).mount('#app');
