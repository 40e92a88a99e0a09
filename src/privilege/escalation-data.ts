/**
 * Privilege-escalation methods and credential-returning actions, as data. Every action of a method
 * is required. Sources: Cloudsplaining's PRIVILEGE_ESCALATION_METHODS (the first 22 from Rhino
 * Security Labs, the 2026 additions from DataDog's pathfinding.cloud), plus Rhino's later
 * aws_escalate.py additions that the table lacks. Action names are canonical iam-data names; a
 * unit test checks that every one exists in the catalog, so a renamed action fails loudly instead
 * of silently never matching.
 */

export interface EscalationMethod {
  name: string;
  /** All required. */
  actions: readonly string[];
  source: 'rhino' | 'pathfinding' | 'rhino-later';
  note?: string;
}

const PASS = 'iam:PassRole';

const rhino = (name: string, actions: string[], note?: string): EscalationMethod => ({
  name,
  actions,
  source: 'rhino',
  ...(note ? { note } : {}),
});
const pf = (name: string, actions: string[], note?: string): EscalationMethod => ({
  name,
  actions,
  source: 'pathfinding',
  ...(note ? { note } : {}),
});

export const ESCALATION_METHODS: readonly EscalationMethod[] = [
  // 1. IAM permissions on other users
  rhino('CreateAccessKey', ['iam:CreateAccessKey']),
  rhino('CreateLoginProfile', ['iam:CreateLoginProfile']),
  rhino('UpdateLoginProfile', ['iam:UpdateLoginProfile']),
  rhino('AddUserToGroup', ['iam:AddUserToGroup']),
  // 2. Permissions on policies
  rhino('CreateNewPolicyVersion', ['iam:CreatePolicyVersion']),
  rhino('SetExistingDefaultPolicyVersion', ['iam:SetDefaultPolicyVersion']),
  rhino('AttachUserPolicy', ['iam:AttachUserPolicy']),
  rhino('AttachGroupPolicy', ['iam:AttachGroupPolicy']),
  rhino('AttachRolePolicy', ['iam:AttachRolePolicy'], 'Rhino also wants sts:AssumeRole for users'),
  rhino('PutUserPolicy', ['iam:PutUserPolicy']),
  rhino('PutGroupPolicy', ['iam:PutGroupPolicy']),
  rhino('PutRolePolicy', ['iam:PutRolePolicy'], 'Rhino also wants sts:AssumeRole for users'),
  // 3. Trust policy
  rhino('UpdateRolePolicyToAssumeIt', ['iam:UpdateAssumeRolePolicy']),
  // 4. PassRole
  rhino('CreateEC2WithExistingIP', [PASS, 'ec2:RunInstances']),
  rhino('PassExistingRoleToNewLambdaThenInvoke', [PASS, 'lambda:CreateFunction', 'lambda:InvokeFunction']),
  rhino('PassExistingRoleToNewLambdaThenTriggerWithNewDynamo', [
    PASS,
    'lambda:CreateFunction',
    'lambda:CreateEventSourceMapping',
    'dynamodb:CreateTable',
    'dynamodb:PutItem',
  ]),
  rhino('PassExistingRoleToNewLambdaThenTriggerWithExistingDynamo', [
    PASS,
    'lambda:CreateFunction',
    'lambda:CreateEventSourceMapping',
  ]),
  rhino('PassExistingRoleToNewGlueDevEndpoint', [PASS, 'glue:CreateDevEndpoint']),
  rhino('PassExistingRoleToCloudFormation', [PASS, 'cloudformation:CreateStack']),
  rhino('PassExistingRoleToNewDataPipeline', [PASS, 'datapipeline:CreatePipeline']),
  // 5. Via services
  rhino('UpdateExistingGlueDevEndpoint', ['glue:UpdateDevEndpoint']),
  rhino('EditExistingLambdaFunctionWithRole', ['lambda:UpdateFunctionCode']),
  // pathfinding.cloud additions (Cloudsplaining, 2026)
  pf('AccessExistingBedrockCodeInterpreterSession', [
    'bedrock-agentcore:StartCodeInterpreterSession',
    'bedrock-agentcore:InvokeCodeInterpreter',
  ]),
  pf('ExecuteCloudFormationChangeSet', ['cloudformation:CreateChangeSet', 'cloudformation:ExecuteChangeSet']),
  pf('ModifyEC2InstanceUserDataThenRestart', [
    'ec2:ModifyInstanceAttribute',
    'ec2:StopInstances',
    'ec2:StartInstances',
  ]),
  pf('ModifyExistingEC2LaunchTemplate', ['ec2:CreateLaunchTemplateVersion', 'ec2:ModifyLaunchTemplate']),
  pf('EC2InstanceConnectSendSSHPublicKey', ['ec2-instance-connect:SendSSHPublicKey', 'ec2:DescribeInstances']),
  pf('ECSExecuteCommandOnRunningTask', ['ecs:ExecuteCommand', 'ecs:DescribeTasks']),
  pf('UpdateAndInvokeLambdaFunction', ['lambda:UpdateFunctionCode', 'lambda:InvokeFunction']),
  pf('UpdateLambdaFunctionAndAddPermission', ['lambda:UpdateFunctionCode', 'lambda:AddPermission']),
  pf('CreatePresignedSageMakerNotebookUrl', ['sagemaker:CreatePresignedNotebookInstanceUrl']),
  pf('UpdateSageMakerNotebookLifecycleConfig', [
    'sagemaker:CreateNotebookInstanceLifecycleConfig',
    'sagemaker:StopNotebookInstance',
    'sagemaker:UpdateNotebookInstance',
    'sagemaker:StartNotebookInstance',
  ]),
  // PassRole + a service that runs code as the passed role. Names are ours: the table has none.
  pf('PassRoleToNewAppRunnerService', [PASS, 'apprunner:CreateService']),
  pf('PassRoleToNewBedrockCodeInterpreter', [
    PASS,
    'bedrock-agentcore:CreateCodeInterpreter',
    'bedrock-agentcore:StartCodeInterpreterSession',
    'bedrock-agentcore:InvokeCodeInterpreter',
  ]),
  pf('PassRoleToNewCloudFormationStackSet', [
    PASS,
    'cloudformation:CreateStackSet',
    'cloudformation:CreateStackInstances',
  ]),
  pf('PassRoleToExistingCloudFormationStackSet', [PASS, 'cloudformation:UpdateStackSet']),
  pf('PassRoleToNewCodeBuildProject', [PASS, 'codebuild:CreateProject', 'codebuild:StartBuild']),
  pf('PassRoleToNewCodeBuildProjectBatch', [PASS, 'codebuild:CreateProject', 'codebuild:StartBuildBatch']),
  pf('PassRoleToNewEC2SpotInstance', [PASS, 'ec2:RequestSpotInstances']),
  pf('PassRoleToNewECSClusterService', [PASS, 'ecs:CreateCluster', 'ecs:RegisterTaskDefinition', 'ecs:CreateService']),
  pf('PassRoleToNewECSClusterTask', [PASS, 'ecs:CreateCluster', 'ecs:RegisterTaskDefinition', 'ecs:RunTask']),
  pf('PassRoleToNewECSService', [PASS, 'ecs:RegisterTaskDefinition', 'ecs:CreateService']),
  pf('PassRoleToNewECSTaskRun', [PASS, 'ecs:RegisterTaskDefinition', 'ecs:RunTask']),
  pf('PassRoleToNewECSTaskStart', [PASS, 'ecs:RegisterTaskDefinition', 'ecs:StartTask']),
  pf('PassRoleToNewGlueJobRun', [PASS, 'glue:CreateJob', 'glue:StartJobRun']),
  pf('PassRoleToNewGlueJobTrigger', [PASS, 'glue:CreateJob', 'glue:CreateTrigger']),
  pf('PassRoleToUpdatedGlueJobRun', [PASS, 'glue:UpdateJob', 'glue:StartJobRun']),
  pf('PassRoleToUpdatedGlueJobTrigger', [PASS, 'glue:UpdateJob', 'glue:CreateTrigger']),
  pf('PassExistingRoleToNewLambdaThenInvokeCrossAccount', [PASS, 'lambda:CreateFunction', 'lambda:AddPermission']),
  pf('PassRoleToNewSageMakerNotebook', [PASS, 'sagemaker:CreateNotebookInstance']),
  pf('PassRoleToNewSageMakerTrainingJob', [PASS, 'sagemaker:CreateTrainingJob']),
  pf('PassRoleToNewSageMakerProcessingJob', [PASS, 'sagemaker:CreateProcessingJob']),
  pf('CreateAndRotateAccessKey', ['iam:CreateAccessKey', 'iam:DeleteAccessKey']),
  pf('AttachUserPolicyThenCreateAccessKey', ['iam:AttachUserPolicy', 'iam:CreateAccessKey']),
  pf('PutUserPolicyThenCreateAccessKey', ['iam:PutUserPolicy', 'iam:CreateAccessKey']),
  pf('CreatePolicyVersionThenAssumeRole', ['iam:CreatePolicyVersion', 'sts:AssumeRole']),
  pf('AttachRolePolicyThenUpdateAssumeRolePolicy', ['iam:AttachRolePolicy', 'iam:UpdateAssumeRolePolicy']),
  pf('CreatePolicyVersionThenUpdateAssumeRolePolicy', ['iam:CreatePolicyVersion', 'iam:UpdateAssumeRolePolicy']),
  pf('PutRolePolicyThenUpdateAssumeRolePolicy', ['iam:PutRolePolicy', 'iam:UpdateAssumeRolePolicy']),
  // Rhino's later additions, where the table above has no equivalent.
  // CodeStarCreateProjectFromTemplate is left out: codestar:CreateProjectFromTemplate is no longer an IAM action.
  {
    name: 'AddExistingLambdaLayerToLambdaFunctionWithRole',
    actions: ['lambda:UpdateFunctionConfiguration'],
    source: 'rhino-later',
  },
  { name: 'PassExistingRoleToNewCodeStarProject', actions: ['codestar:CreateProject', PASS], source: 'rhino-later' },
  {
    name: 'CodeStarCreateProjectThenAssociateTeamMember',
    actions: ['codestar:CreateProject', 'codestar:AssociateTeamMember'],
    source: 'rhino-later',
  },
  {
    name: 'PassRoleToNewSageMakerJupyterNotebook',
    actions: ['sagemaker:CreateNotebookInstance', 'sagemaker:CreatePresignedNotebookInstanceUrl', PASS],
    source: 'rhino-later',
  },
];

/**
 * Cloudsplaining's ACTIONS_THAT_RETURN_CREDENTIALS, canonical names, `gamelist:` fixed to
 * `gamelift:`. Dropped because the catalog has no such IAM action: `connect:GetFederationTokens`
 * (only the singular exists) and `sso:GetRoleCredentials` (the portal API takes a bearer token,
 * not an IAM permission).
 */
export const ACTIONS_THAT_RETURN_CREDENTIALS: readonly string[] = [
  'airflow:CreateCliToken',
  'airflow:CreateWebLoginToken',
  'appsync:CreateApiKey',
  'chime:CreateApiKey',
  'cloud9:CreateEnvironmentToken',
  'codeartifact:GetAuthorizationToken',
  'codepipeline:PollForJobs',
  'cognito-identity:GetOpenIdToken',
  'cognito-identity:GetOpenIdTokenForDeveloperIdentity',
  'cognito-identity:GetCredentialsForIdentity',
  'cognito-idp:GetSigningCertificate',
  'connect:GetFederationToken',
  'ec2:GetPasswordData',
  'ecr:GetAuthorizationToken',
  'ecr-public:GetAuthorizationToken',
  'emr-containers:GetManagedEndpointSessionCredentials',
  'finspace-api:GetProgrammaticAccessCredentials',
  'gamelift:RequestUploadCredentials',
  'gamelift:GetInstanceAccess',
  'gamelift:GetComputeAccess',
  'gamelift:GetComputeAuthToken',
  'grafana:CreateWorkspaceApiKey',
  'iam:CreateAccessKey',
  'iam:CreateLoginProfile',
  'iam:CreateServiceSpecificCredential',
  'iam:ResetServiceSpecificCredential',
  'iam:UpdateAccessKey',
  'license-manager:GetAccessToken',
  'lightsail:GetInstanceAccessDetails',
  'lightsail:DownloadDefaultKeyPair',
  'lightsail:CreateBucketAccessKey',
  'lightsail:GetRelationalDatabaseMasterUserPassword',
  'mediapackage:RotateChannelCredentials',
  'mediapackage:RotateIngestEndpointCredentials',
  'rds-db:connect',
  'redshift:GetClusterCredentials',
  'redshift:GetClusterCredentialsWithIAM',
  'redshift-serverless:GetCredentials',
  'sts:AssumeRole',
  'sts:AssumeRoleWithSAML',
  'sts:AssumeRoleWithWebIdentity',
  'sts:GetFederationToken',
  'sts:GetSessionToken',
];

export const escalationMethodNames = (): string[] => ESCALATION_METHODS.map((m) => m.name);
