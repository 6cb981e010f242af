'use client';

import {
  Alert,
  Button,
  Group,
  PasswordInput,
  SegmentedControl,
  Select,
  Stack,
  Stepper,
  Text,
  Textarea,
  TextInput,
} from '@mantine/core';
import { zodResolver } from '@hookform/resolvers/zod';
import { useState } from 'react';
import { Controller, useForm, type Path } from 'react-hook-form';
import { z } from 'zod';
import { completeSetup } from '@/lib/actions';
import { applyServerErrors } from '@/lib/form-errors';

const CERT_PEM = /^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----$/;
const KEY_PEM = /^-----BEGIN (RSA |EC )?PRIVATE KEY-----[\s\S]+-----END (RSA |EC )?PRIVATE KEY-----$/;

const schema = z
  .object({
    setupCode: z.string().trim().optional(),
    organization: z.string().trim().min(1, 'Enter the organization name').max(128, 'At most 128 characters'),
    admin: z.object({
      username: z
        .string()
        .trim()
        .toLowerCase()
        .regex(/^[a-z0-9._-]{3,64}$/, '3 to 64 characters among a-z, 0-9, ".", "_" and "-"'),
      password: z.string().min(8, 'At least 8 characters'),
      confirm: z.string(),
    }),
    ca: z.object({
      mode: z.enum(['generate', 'import']),
      algorithm: z.enum(['RSA-4096', 'P-256']),
      commonName: z.string().trim().max(64, 'At most 64 characters'),
      certificatePem: z.string().trim(),
      privateKeyPem: z.string().trim(),
    }),
  })
  .superRefine((v, ctx) => {
    if (v.admin.password !== v.admin.confirm) {
      ctx.addIssue({ code: 'custom', path: ['admin', 'confirm'], message: 'The passwords differ' });
    }
    if (v.ca.mode !== 'import') return;
    const check = (field: 'certificatePem' | 'privateKeyPem', value: string, pattern: RegExp, what: string) => {
      if (!value) ctx.addIssue({ code: 'custom', path: ['ca', field], message: `Paste the CA ${what}` });
      else if (!pattern.test(value)) {
        ctx.addIssue({ code: 'custom', path: ['ca', field], message: `Paste a PEM ${what} (-----BEGIN … -----END …)` });
      }
    };
    check('certificatePem', v.ca.certificatePem, CERT_PEM, 'certificate');
    check('privateKeyPem', v.ca.privateKeyPem, KEY_PEM, 'private key');
  });
type Values = z.input<typeof schema>;

const STEPS: Path<Values>[][] = [
  ['setupCode', 'organization'],
  ['admin.username', 'admin.password', 'admin.confirm'],
  ['ca.mode', 'ca.algorithm', 'ca.commonName', 'ca.certificatePem', 'ca.privateKeyPem'],
];
const FIELDS = STEPS.flat();
/** Server error codes that belong to one field. */
const CODE_FIELDS: Record<string, Path<Values>> = {
  USERNAME_INVALID: 'admin.username',
  PASSWORD_TOO_SHORT: 'admin.password',
  PASSWORD_INVALID: 'admin.password',
  CA_INVALID: 'ca.certificatePem',
  SETUP_CODE_INVALID: 'setupCode',
  SETUP_CODE_REQUIRED: 'setupCode',
};

export function SetupWizard() {
  const [step, setStep] = useState(0);
  const form = useForm<Values>({
    resolver: zodResolver(schema),
    mode: 'onTouched',
    defaultValues: {
      setupCode: '',
      organization: '',
      admin: { username: 'admin', password: '', confirm: '' },
      ca: { mode: 'generate', algorithm: 'RSA-4096', commonName: '', certificatePem: '', privateKeyPem: '' },
    },
  });
  const { errors, isSubmitting } = form.formState;
  const mode = form.watch('ca.mode');

  const stepOf = (field: string) => STEPS.findIndex((s) => s.some((f) => field.startsWith(f)));
  const next = async () => {
    if (await form.trigger(STEPS[step])) setStep((s) => s + 1);
  };

  const onSubmit = form.handleSubmit(async (raw) => {
    const v = schema.parse(raw);
    const result = await completeSetup({
      setupCode: v.setupCode || undefined,
      organization: v.organization,
      admin: { username: v.admin.username, password: v.admin.password },
      ca:
        v.ca.mode === 'generate'
          ? { mode: 'generate', algorithm: v.ca.algorithm, commonName: v.ca.commonName || undefined }
          : { mode: 'import', certificatePem: v.ca.certificatePem, privateKeyPem: v.ca.privateKeyPem },
    });
    if (result.ok) {
      window.location.assign('/');
      return;
    }
    const field = CODE_FIELDS[result.error.code];
    if (field) form.setError(field, { type: 'server', message: result.error.message });
    else applyServerErrors(result.error, form.setError, FIELDS);
    const first = field ?? FIELDS.find((f) => form.getFieldState(f).error);
    setStep(first ? Math.max(0, stepOf(first)) : step);
  });

  return (
    <form onSubmit={onSubmit} noValidate aria-label="Setup">
      <Stack gap="lg">
        {errors.root?.server && (
          <Alert color="red" title="Setup failed" role="alert">
            {errors.root.server.message}
          </Alert>
        )}
        <Stepper active={step} onStepClick={(s) => s < step && setStep(s)} size="sm">
          <Stepper.Step label="Organization" description="Name and setup code">
            <Stack mt="md">
              <TextInput
                label="Setup code"
                description="Printed in the server log at start (“setup code”). Leave empty if the log shows none."
                autoComplete="off"
                {...form.register('setupCode')}
                error={errors.setupCode?.message}
              />
              <TextInput
                label="Organization name"
                description="Appears in the CA certificate's subject"
                placeholder="Example Corp"
                {...form.register('organization')}
                error={errors.organization?.message}
              />
            </Stack>
          </Stepper.Step>
          <Stepper.Step label="Administrator" description="The first owner">
            <Stack mt="md">
              <TextInput
                label="Username"
                autoComplete="username"
                {...form.register('admin.username')}
                error={errors.admin?.username?.message}
              />
              <PasswordInput
                label="Password"
                description="At least 8 characters; a long passphrase is best"
                autoComplete="new-password"
                {...form.register('admin.password')}
                error={errors.admin?.password?.message}
              />
              <PasswordInput
                label="Confirm the password"
                autoComplete="new-password"
                {...form.register('admin.confirm')}
                error={errors.admin?.confirm?.message}
              />
            </Stack>
          </Stepper.Step>
          <Stepper.Step label="Certificate authority" description="Generate or import">
            <Stack mt="md">
              <Controller
                control={form.control}
                name="ca.mode"
                render={({ field }) => (
                  <Stack gap={4}>
                    <Text size="sm" fw={500} id="ca-mode-label">
                      Certificate authority
                    </Text>
                    <SegmentedControl
                      aria-labelledby="ca-mode-label"
                      value={field.value}
                      onChange={field.onChange}
                      data={[
                        { value: 'generate', label: 'Generate a new CA' },
                        { value: 'import', label: 'Import an existing CA' },
                      ]}
                    />
                  </Stack>
                )}
              />
              {mode === 'generate' ? (
                <>
                  <Controller
                    control={form.control}
                    name="ca.algorithm"
                    render={({ field }) => (
                      <Select
                        label="Key algorithm"
                        description="RSA-4096 is what Jami clients use for their own keys"
                        data={['RSA-4096', 'P-256']}
                        value={field.value}
                        onChange={(v) => field.onChange(v ?? 'RSA-4096')}
                        allowDeselect={false}
                      />
                    )}
                  />
                  <TextInput
                    label="Common name"
                    description="Default: “<organization> CA”"
                    {...form.register('ca.commonName')}
                    error={errors.ca?.commonName?.message}
                  />
                </>
              ) : (
                <>
                  <Textarea
                    label="CA certificate (PEM)"
                    autosize
                    minRows={4}
                    maxRows={8}
                    styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }}
                    {...form.register('ca.certificatePem')}
                    error={errors.ca?.certificatePem?.message}
                  />
                  <Textarea
                    label="CA private key (PEM: PKCS#8, PKCS#1 or SEC1)"
                    description="Stored encrypted under the server's master key"
                    autosize
                    minRows={4}
                    maxRows={8}
                    styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }}
                    {...form.register('ca.privateKeyPem')}
                    error={errors.ca?.privateKeyPem?.message}
                  />
                </>
              )}
            </Stack>
          </Stepper.Step>
        </Stepper>
        <Group justify="space-between">
          <Button variant="default" onClick={() => setStep((s) => s - 1)} disabled={step === 0 || isSubmitting}>
            Back
          </Button>
          {step < STEPS.length - 1 ? (
            // Distinct keys: React must not turn the clicked "Next" button into the submit button in place,
            // or the browser would submit the form at the end of that click.
            <Button key="next" onClick={next}>
              Next
            </Button>
          ) : (
            <Button key="submit" type="submit" loading={isSubmitting}>
              Create the organization
            </Button>
          )}
        </Group>
      </Stack>
    </form>
  );
}
