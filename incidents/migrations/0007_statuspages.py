# Status pages: pages, components, public updates, subscribers and their email outbox.

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
import incidents.models.statuspage
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('incidents', '0006_escalation'),
        ('monitoring', '0001_initial'),
        ('tenancy', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='PublicUpdate',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('status', models.CharField(choices=[('investigating', 'Investigating'), ('identified', 'Identified'), ('monitoring', 'Monitoring'), ('resolved', 'Resolved')], max_length=16, verbose_name='status')),
                ('body', models.TextField(max_length=5000, verbose_name='message')),
                ('posted_at', models.DateTimeField(verbose_name='posted')),
                ('author', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='author')),
                ('incident', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='public_updates', to='incidents.incident', verbose_name='incident')),
            ],
            options={
                'verbose_name': 'public update',
                'verbose_name_plural': 'public updates',
                'ordering': ['posted_at', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='StatusPage',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('slug', models.SlugField(help_text='The page is served at /status/<address name>/.', max_length=100, unique=True, verbose_name='address name')),
                ('title', models.CharField(max_length=200, verbose_name='title')),
                ('intro', models.TextField(blank=True, default='', help_text='Public text above the components.', verbose_name='introduction')),
                ('custom_domain', models.CharField(blank=True, default='', help_text="Optional host name (e.g. status.shop.example) pointed at sitecare; the page is then also served at its root. TLS is the reverse proxy's job.", max_length=253, validators=[django.core.validators.RegexValidator('^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$', 'Enter a host name such as status.shop.example (no scheme, port or path).')], verbose_name='custom domain')),
                ('accent_color', models.CharField(default='#2563eb', max_length=7, validators=[django.core.validators.RegexValidator('^#[0-9a-f]{6}$', 'Enter a colour as #rrggbb, e.g. #2563eb.')], verbose_name='accent colour')),
                ('agency_name', models.CharField(blank=True, default='', help_text="Shown in the page's footer; empty: none.", max_length=200, verbose_name='shown agency name')),
                ('logo_url', models.CharField(blank=True, default='', help_text='Optional https:// address of a logo image.', max_length=500, validators=[django.core.validators.URLValidator(message='Enter an https:// address, or leave it empty.', schemes=['https'])], verbose_name='logo address')),
                ('published', models.BooleanField(default=False, help_text='Unpublished pages answer 404 to everyone.', verbose_name='published')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
                ('client', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='status_pages', to='tenancy.client', verbose_name='client')),
            ],
            options={
                'verbose_name': 'status page',
                'verbose_name_plural': 'status pages',
                'ordering': ['title', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='StatusComponent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(help_text="Shown instead of the monitor's own name.", max_length=200, verbose_name='public name')),
                ('position', models.PositiveIntegerField(default=0, verbose_name='position')),
                ('monitor', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='status_components', to='monitoring.monitor', verbose_name='monitor')),
                ('page', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='components', to='incidents.statuspage', verbose_name='page')),
            ],
            options={
                'verbose_name': 'status page component',
                'verbose_name_plural': 'status page components',
                'ordering': ['position', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='StatusSubscriber',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('email', models.EmailField(max_length=254, verbose_name='email')),
                ('created_at', models.DateTimeField(verbose_name='subscribed')),
                ('confirmed_at', models.DateTimeField(blank=True, null=True, verbose_name='confirmed')),
                ('nonce', models.CharField(default=incidents.models.statuspage.new_nonce, editable=False, max_length=32)),
                ('page', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='subscribers', to='incidents.statuspage', verbose_name='page')),
            ],
            options={
                'verbose_name': 'status page subscriber',
                'verbose_name_plural': 'status page subscribers',
                'ordering': ['created_at', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='StatusEmail',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('confirm', 'Confirmation request'), ('update', 'Incident update')], max_length=16, verbose_name='kind')),
                ('dedup_key', models.CharField(max_length=200, unique=True, verbose_name='deduplication key')),
                ('state', models.CharField(choices=[('pending', 'Pending'), ('sent', 'Sent'), ('failed', 'Failed')], default='pending', max_length=16, verbose_name='state')),
                ('attempts', models.PositiveIntegerField(default=0, verbose_name='attempts')),
                ('next_attempt_at', models.DateTimeField(verbose_name='next attempt')),
                ('last_error', models.CharField(blank=True, default='', max_length=500, verbose_name='last error')),
                ('created_at', models.DateTimeField(verbose_name='created')),
                ('sent_at', models.DateTimeField(blank=True, null=True, verbose_name='sent')),
                ('update', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='emails', to='incidents.publicupdate')),
                ('page', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='emails', to='incidents.statuspage')),
                ('subscriber', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='emails', to='incidents.statussubscriber')),
            ],
            options={
                'verbose_name': 'status page email',
                'verbose_name_plural': 'status page emails',
                'ordering': ['created_at', 'pk'],
            },
        ),
        migrations.AddConstraint(
            model_name='statuspage',
            constraint=models.UniqueConstraint(condition=models.Q(('custom_domain', ''), _negated=True), fields=('custom_domain',), name='status_page_custom_domain_unique', violation_error_code='unique', violation_error_message='Another status page uses this domain.'),
        ),
        migrations.AddConstraint(
            model_name='statuscomponent',
            constraint=models.UniqueConstraint(fields=('page', 'monitor'), name='status_component_monitor_once', violation_error_message='This monitor is already a component of the page.'),
        ),
        migrations.AddConstraint(
            model_name='statussubscriber',
            constraint=models.UniqueConstraint(fields=('page', 'email'), name='status_subscriber_once'),
        ),
        migrations.AddIndex(
            model_name='statusemail',
            index=models.Index(fields=['state', 'next_attempt_at'], name='status_email_due'),
        ),
    ]
